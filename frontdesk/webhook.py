"""What every Twilio webhook view does the same way: read the form, verify, refuse, ask retry."""

import logging

from django.conf import settings
from django.http import HttpResponse, QueryDict
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from frontdesk.credentials import twilio_credentials
from frontdesk.twilio import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, signature_valid
from tenants.models import Organization
from tenants.phone import phone_mask

logger = logging.getLogger(__name__)

TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"
PHONE_MAX_CHARS = 32  # Conversation.from_number / to_number, UnroutedMessage's numbers


def webhook_form(request: Request) -> QueryDict:
    """The full POST body, as Twilio signed it (FormParser gives a QueryDict)."""
    data = request.data
    return data if isinstance(data, QueryDict) else QueryDict()


def webhook_signature(request: Request) -> str:
    return request.headers.get(SIGNATURE_HEADER, "")


def webhook_verified(
    request: Request,
    *,
    params: QueryDict,
    organization: Organization | None,
    channel: str,
) -> bool:
    """Twilio's signature under the organization's token (or the global one), and its account."""
    credentials = twilio_credentials(organization=organization)
    slug = organization.slug if organization is not None else "-"
    if not credentials.auth_token:
        logger.error("%s step=refused org=%s reason=no_auth_token_configured", channel, slug)
        return False
    account_sid = params.get("AccountSid", "")
    if credentials.account_sid and account_sid != credentials.account_sid:
        logger.warning("%s step=refused org=%s reason=account_sid_mismatch", channel, slug)
        return False
    url = webhook_signed_url(request)
    if not signature_valid(
        url=url,
        params=params,
        signature=webhook_signature(request),
        token=credentials.auth_token,
        settings_header=request.headers.get(SIGNATURE_SETTINGS_HEADER, ""),
    ):
        logger.warning(
            "%s step=refused org=%s reason=bad_signature to=%s url=%s",
            channel,
            slug,
            phone_mask(params.get("To", "")),
            url,
        )
        return False
    return True


def webhook_signed_url(request: Request) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path behind a proxy, else what we were asked."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def twiml_response(xml: str) -> HttpResponse:
    return HttpResponse(xml, content_type=TWIML_CONTENT_TYPE)


def refused() -> Response:
    return Response({"detail": "Invalid Twilio signature."}, status=status.HTTP_403_FORBIDDEN)


def unavailable() -> Response:
    response = Response(
        {"detail": "Temporarily unavailable; retry."}, status=status.HTTP_503_SERVICE_UNAVAILABLE
    )
    response["Retry-After"] = "5"
    return response
