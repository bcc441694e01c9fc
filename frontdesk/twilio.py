"""Twilio's request signatures, for every webhook (messages, calls, status callbacks)."""

from collections.abc import Mapping
from typing import Any

from twilio.request_validator import (
    SIGNATURE_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_SETTINGS_HEADER",
    "signature_compute",
    "signature_valid",
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
