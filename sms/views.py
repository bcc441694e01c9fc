"""Twilio's SMS webhooks: POST /api/twilio/incoming-sms and /api/twilio/message-status."""

import logging
from typing import Any

from django.db import DatabaseError
from django.http import HttpResponse
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from frontdesk.outcomes import AnswerUnavailable
from frontdesk.webhook import (
    PHONE_MAX_CHARS,
    refused,
    twiml_response,
    unavailable,
    webhook_form,
    webhook_signature,
    webhook_verified,
)
from sms.delivery import message_status_record
from sms.inbound import InboundSms
from sms.selectors import organization_for_message_sid
from sms.services import sms_receive, unrouted_message_store
from sms.twilio import twiml_reply
from tenants.scoping import tenant_scope
from tenants.selectors import organization_for_number

logger = logging.getLogger(__name__)


class InboundSmsSerializer(serializers.Serializer):
    """The webhook params we cannot work without; the rest are kept as sent."""

    MessageSid = serializers.CharField(max_length=64)
    # As wide as the number columns: a longer one could not be stored (a 503 Twilio retries).
    From = serializers.CharField(max_length=PHONE_MAX_CHARS)
    To = serializers.CharField(max_length=PHONE_MAX_CHARS)
    AccountSid = serializers.CharField(required=False, allow_blank=True, max_length=64)
    # Validated because routing sends it to the database (CharField refuses NUL bytes).
    MessagingServiceSid = serializers.CharField(required=False, allow_blank=True, max_length=64)
    NumMedia = serializers.IntegerField(required=False, min_value=0, max_value=10)


class MessageStatusSerializer(serializers.Serializer):
    MessageSid = serializers.CharField(max_length=64)
    MessageStatus = serializers.ChoiceField(
        choices=[
            "accepted",
            "scheduled",
            "queued",
            "sending",
            "sent",
            "delivered",
            "undelivered",
            "failed",
            "read",
            "canceled",
            "receiving",
            "received",
        ]
    )
    ErrorCode = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    AccountSid = serializers.CharField(required=False, allow_blank=True, max_length=64)


class _TwilioWebhook(APIView):
    """Form posts signed by Twilio. No session auth, so DRF leaves them CSRF-exempt."""

    parser_classes = [FormParser]
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    http_method_names = ["post", "options"]


class IncomingSmsView(_TwilioWebhook):
    """Verify, route, store, answer."""

    def post(self, request: Request) -> HttpResponse | Response:
        params = webhook_form(request)
        if not webhook_signature(request):
            logger.warning("sms step=refused reason=missing_signature")
            return refused()
        serializer = InboundSmsSerializer(data=params)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            organization = organization_for_number(
                str(params["To"]), str(params.get("MessagingServiceSid", "")), channel="sms"
            )
        except DatabaseError:
            logger.error("sms step=unavailable reason=routing_database_error")
            return unavailable()
        if not webhook_verified(request, params=params, organization=organization, channel="sms"):
            return refused()
        inbound = InboundSms.from_params(params.dict())
        if organization is None:
            try:
                unrouted_message_store(inbound=inbound)
            except DatabaseError:
                return unavailable()
            return twiml_response(twiml_reply(None))
        try:
            with tenant_scope(organization):
                result = sms_receive(organization=organization, inbound=inbound)
        except AnswerUnavailable:
            return unavailable()
        return twiml_response(twiml_reply(result.text))


class MessageStatusView(_TwilioWebhook):
    """Twilio's StatusCallback for a text we sent: verified with the sending clinic's token."""

    def post(self, request: Request) -> HttpResponse | Response:
        params = webhook_form(request)
        if not webhook_signature(request):
            return refused()
        fields = {key: params.get(key) for key in params if params.get(key) != ""}
        serializer = MessageStatusSerializer(data=fields)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        sid = serializer.validated_data["MessageSid"]
        try:
            organization = organization_for_message_sid(sid)
        except DatabaseError:
            return unavailable()
        if not webhook_verified(request, params=params, organization=organization, channel="sms"):
            return refused()
        if organization is None:
            return Response({"detail": "No such message."}, status=status.HTTP_404_NOT_FOUND)
        try:
            with tenant_scope(organization):
                message_status_record(
                    organization=organization,
                    sid=sid,
                    status=serializer.validated_data["MessageStatus"],
                    error_code=serializer.validated_data.get("ErrorCode"),
                )
        except DatabaseError:
            return unavailable()
        return HttpResponse(status=status.HTTP_204_NO_CONTENT)
