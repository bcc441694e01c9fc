"""Where outbound texts go: a backend chosen by LEXI_SMS_BACKEND, like Django's EMAIL_BACKEND.

`twilio` sends through Twilio's REST API (the only module importing its REST client),
`console` prints, `locmem` keeps an outbox for tests. A backend sends one text and tells how
it went by returning a receipt or raising one of the three errors below; it never retries.
"""

from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from tenants.models import Organization

BACKENDS = {
    "twilio": "sms.sending.twilio.TwilioBackend",
    "console": "sms.sending.console.ConsoleBackend",
    "locmem": "sms.sending.locmem.LocmemBackend",
}


@dataclass(frozen=True)
class OutboundSms:
    organization: Organization
    from_number: str
    to_number: str
    body: str
    status_callback: str  # "" when there is no public URL to call back


@dataclass(frozen=True)
class SendReceipt:
    """The provider's id for the text, and its status as the provider reported it."""

    sid: str
    status: str


class SendError(Exception):
    def __init__(self, detail: str, *, code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class SendRetryable(SendError):
    """The provider did not take the text (rate limit, its own error, no connection): retry."""

    def __init__(self, detail: str, *, code: int | None = None, retry_after: float = 0) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class SendRejected(SendError):
    """The provider refused the text for good (unsubscribed, invalid or unreachable number)."""


class SendOutcomeUnknown(SendError):
    """The request went out and no clear answer came back: it may have been sent."""


class SmsBackend(Protocol):
    def send(self, message: OutboundSms) -> SendReceipt: ...


@cache
def _backend_class(path: str) -> type[SmsBackend]:
    return import_string(BACKENDS.get(path, path))


def sms_backend() -> SmsBackend:
    """The configured backend (a name from BACKENDS or a dotted path)."""
    return _backend_class(settings.LEXI_SMS_BACKEND)()
