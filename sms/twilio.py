"""The only module that imports the twilio SDK: signatures and TwiML."""

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree

from twilio.request_validator import (
    SIGNATURE_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_SETTINGS_HEADER",
    "signature_compute",
    "signature_valid",
    "twiml_messages",
    "twiml_reply",
]

SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"


def signature_valid(
    *, url: str, params: Mapping[str, Any], signature: str, token: str, settings_header: str = ""
) -> bool:
    """True when `signature` is Twilio's signature of (url, params) under `token`.

    An empty token or signature never validates: with nothing to check against we refuse.
    """
    if not token or not signature:
        return False
    algorithm = get_signature_algorithm(settings_header)
    return bool(RequestValidator(token).validate(url, params, signature, algorithm=algorithm))


def signature_compute(*, url: str, params: Mapping[str, Any], token: str) -> str:
    """Sign a request as Twilio would (the `sms` command and the tests use it)."""
    return str(RequestValidator(token).compute_signature(url, params))


def twiml_reply(text: str | None) -> str:
    """A MessagingResponse with one message, or an empty one (no reply)."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response.to_xml(xml_declaration=True))


def twiml_messages(xml: str) -> list[str]:
    """The texts of the <Message> verbs of a TwiML document."""
    # Parsed only for our own command and tests, on TwiML that our server rendered.
    root = ElementTree.fromstring(xml)  # noqa: S314 -- our own server's TwiML, not foreign XML
    return [(node.text or "") for node in root.iter("Message")]
