"""Twilio's voice webhooks: POST /api/twilio/incoming-call, /voice-turn and /call-status.

Signed and verified exactly like the SMS webhook, routed by the number called (only numbers
that take calls). A caller never hears an error page: what cannot be answered ends politely.
"""

import logging
from typing import Any

from django.db import DatabaseError
from django.http import HttpResponse
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from twilio.twiml.voice_response import VoiceResponse

from frontdesk.webhook import (
    PHONE_MAX_CHARS,
    refused,
    twiml_response,
    webhook_form,
    webhook_signature,
    webhook_verified,
)
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tenants.selectors import organization_for_number
from voice.calls import InboundCall
from voice.services import call_answer, call_status_record, call_turn
from voice.twiml import step_twiml

logger = logging.getLogger(__name__)

NOT_IN_SERVICE = "Sorry, this number is not in service. Goodbye."
TROUBLE = "Sorry, we're having trouble answering right now. Please call back in a few minutes."


class CallSerializer(serializers.Serializer):
    CallSid = serializers.CharField(max_length=64)
    From = serializers.CharField(max_length=PHONE_MAX_CHARS, required=False, allow_blank=True)
    To = serializers.CharField(max_length=PHONE_MAX_CHARS)
    AccountSid = serializers.CharField(required=False, allow_blank=True, max_length=64)


class TurnQuerySerializer(serializers.Serializer):
    turn = serializers.IntegerField(min_value=0, max_value=10_000, required=False, default=0)
    quiet = serializers.IntegerField(min_value=0, max_value=100, required=False, default=0)
    take = serializers.ChoiceField(choices=["", "message"], required=False, default="")


class _VoiceWebhook(APIView):
    parser_classes = [FormParser]
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    http_method_names = ["post", "options"]

    def verified_call(
        self, request: Request
    ) -> tuple[Organization | None, HttpResponse | Response | None]:
        """The clinic the call is for, or the response that refuses the request."""
        params = webhook_form(request)
        if not webhook_signature(request):
            return None, refused()
        serializer = CallSerializer(data={k: params.get(k) for k in params})
        if not serializer.is_valid():
            return None, Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            organization = organization_for_number(str(params["To"]), channel="voice")
        except DatabaseError:
            return None, _spoken_end(TROUBLE)
        if not webhook_verified(request, params=params, organization=organization, channel="voice"):
            return None, refused()
        if organization is None:
            logger.warning("voice step=unrouted")
            return None, _spoken_end(NOT_IN_SERVICE)
        return organization, None


class IncomingCallView(_VoiceWebhook):
    """A call comes in: greet the caller and listen."""

    def post(self, request: Request) -> HttpResponse | Response:
        organization, refusal = self.verified_call(request)
        if refusal is not None:
            return refusal
        assert organization is not None  # noqa: S101 -- verified_call returns one or the other
        call = InboundCall.from_params(webhook_form(request).dict())
        try:
            with tenant_scope(organization):
                step = call_answer(organization=organization, call=call)
        except DatabaseError:
            return _spoken_end(TROUBLE)
        return twiml_response(step_twiml(step))


class VoiceTurnView(_VoiceWebhook):
    """The Gather's action: what the caller said (or that they said nothing)."""

    def post(self, request: Request) -> HttpResponse | Response:
        query = TurnQuerySerializer(data=request.query_params.dict())
        if not query.is_valid():
            return Response(query.errors, status=status.HTTP_400_BAD_REQUEST)
        organization, refusal = self.verified_call(request)
        if refusal is not None:
            return refusal
        assert organization is not None  # noqa: S101 -- verified_call returns one or the other
        call = InboundCall.from_params(webhook_form(request).dict(), query.validated_data)
        try:
            with tenant_scope(organization):
                step = call_turn(organization=organization, call=call)
        except DatabaseError:
            return _spoken_end(TROUBLE)
        return twiml_response(step_twiml(step))


class CallStatusView(_VoiceWebhook):
    """StatusCallback: how the call ended (idempotent, late or repeated callbacks ignored)."""

    def post(self, request: Request) -> HttpResponse | Response:
        organization, refusal = self.verified_call(request)
        if refusal is not None:
            return refusal if refusal.status_code != 200 else HttpResponse(status=204)
        assert organization is not None  # noqa: S101 -- verified_call returns one or the other
        params = webhook_form(request)
        try:
            duration = int(params.get("CallDuration") or 0) or None
        except ValueError:
            return Response({"CallDuration": ["Not a number."]}, status=400)
        try:
            with tenant_scope(organization):
                call_status_record(
                    organization=organization,
                    call_sid=str(params["CallSid"]),
                    status=str(params.get("CallStatus", "")),
                    duration=duration,
                )
        except DatabaseError:
            response = Response({"detail": "Temporarily unavailable; retry."}, status=503)
            response["Retry-After"] = "5"
            return response
        return HttpResponse(status=status.HTTP_204_NO_CONTENT)


def _spoken_end(words: str) -> HttpResponse:
    response = VoiceResponse()
    response.say(words)
    response.hangup()
    return twiml_response(str(response))
