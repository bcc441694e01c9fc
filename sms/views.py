"""POST /api/twilio/incoming-sms: Twilio's inbound-message webhook."""

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, QueryDict
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sms.inbound import InboundSms
from sms.selectors import twilio_credentials
from sms.services import SmsUnavailable, sms_receive, unrouted_message_store
from sms.twilio import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, signature_valid, twiml_reply
from tenants.models import Organization
from tenants.phone import phone_mask
from tenants.selectors import organization_for_number

logger = logging.getLogger(__name__)

TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"
PHONE_MAX_CHARS = 32  # Conversation.from_number / to_number, UnroutedMessage's numbers


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


class IncomingSmsView(APIView):
    """Verify, route, store, answer. No session auth, so DRF leaves it CSRF-exempt."""

    parser_classes = [FormParser]
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    http_method_names = ["post", "options"]

    def post(self, request: Request) -> HttpResponse | Response:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        params = _form(request)  # the full POST body, as Twilio signed it
        if not signature:
            logger.warning("sms step=refused reason=missing_signature")
            return _refused()
        serializer = InboundSmsSerializer(data=params)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        to_number = str(params["To"])
        try:
            organization = organization_for_number(
                to_number, str(params.get("MessagingServiceSid", ""))
            )
        except DatabaseError:
            logger.error("sms step=unavailable reason=routing_database_error")
            return _unavailable()
        if not _verified(request, params=params, signature=signature, organization=organization):
            return _refused()
        inbound = InboundSms.from_params(params.dict())
        if organization is None:
            try:
                unrouted_message_store(inbound=inbound)
            except DatabaseError:
                return _unavailable()
            return _twiml(None)
        try:
            result = sms_receive(organization=organization, inbound=inbound)
        except SmsUnavailable:
            return _unavailable()
        return _twiml(result.text)


def _form(request: Request) -> QueryDict:
    data = request.data  # FormParser gives a QueryDict; anything else was refused with a 415
    return data if isinstance(data, QueryDict) else QueryDict()


def _verified(
    request: Request, *, params: QueryDict, signature: str, organization: Organization | None
) -> bool:
    """Twilio's signature under the routed organization's token (or the global one)."""
    credentials = twilio_credentials(organization=organization)
    slug = organization.slug if organization is not None else "-"
    if not credentials.auth_token:
        logger.error("sms step=refused org=%s reason=no_auth_token_configured", slug)
        return False
    account_sid = params.get("AccountSid", "")
    if credentials.account_sid and account_sid != credentials.account_sid:
        logger.warning("sms step=refused org=%s reason=account_sid_mismatch", slug)
        return False
    url = _signed_url(request)
    if not signature_valid(
        url=url,
        params=params,
        signature=signature,
        token=credentials.auth_token,
        settings_header=request.headers.get(SIGNATURE_SETTINGS_HEADER, ""),
    ):
        logger.warning(
            "sms step=refused org=%s reason=bad_signature to=%s url=%s",
            slug,
            phone_mask(params.get("To", "")),
            url,
        )
        return False
    return True


def _signed_url(request: Request) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path behind a proxy, else what we were asked."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def _twiml(text: str | None) -> HttpResponse:
    return HttpResponse(twiml_reply(text), content_type=TWIML_CONTENT_TYPE)


def _refused() -> Response:
    return Response({"detail": "Invalid Twilio signature."}, status=status.HTTP_403_FORBIDDEN)


def _unavailable() -> Response:
    response = Response(
        {"detail": "Temporarily unavailable; retry."}, status=status.HTTP_503_SERVICE_UNAVAILABLE
    )
    response["Retry-After"] = "5"
    return response
