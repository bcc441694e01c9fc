"""Texts through Twilio's REST API: the only module that imports the twilio REST client.

The clinic's own subaccount credentials when it has them, else the global ones. The base URL
comes from TWILIO_API_BASE_URL, so a local server speaking Twilio's protocol can stand in.
What went wrong is mapped to our three errors: Twilio's 429 and 5xx, and a connection that
never opened, did not take the text (retry); a 4xx refused it (don't); a timeout after the
request went out, or an answer we cannot read, leaves it unknown (don't send it again).
"""

import logging

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from frontdesk.credentials import twilio_credentials
from sms.sending import (
    OutboundSms,
    SendOutcomeUnknown,
    SendReceipt,
    SendRejected,
    SendRetryable,
)

logger = logging.getLogger(__name__)


class TwilioBackend:
    def send(self, message: OutboundSms) -> SendReceipt:
        credentials = twilio_credentials(organization=message.organization)
        if not (credentials.account_sid and credentials.auth_token):
            raise SendRejected("No Twilio account SID and auth token are configured.")
        client = Client(
            credentials.account_sid,
            credentials.auth_token,
            http_client=TwilioHttpClient(timeout=settings.LEXI_SEND_TIMEOUT_SECONDS),
        )
        client.api.base_url = settings.TWILIO_API_BASE_URL
        options = {"status_callback": message.status_callback} if message.status_callback else {}
        try:
            sent = client.messages.create(
                to=message.to_number, from_=message.from_number, body=message.body, **options
            )
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise SendRetryable(f"Twilio answered {exc.status}", code=exc.code) from exc
            raise SendRejected(str(exc.msg or exc.status), code=exc.code) from exc
        except requests.RequestException as exc:
            if _never_connected(exc):
                raise SendRetryable("Could not connect to Twilio") from exc
            raise SendOutcomeUnknown(f"No answer from Twilio ({type(exc).__name__})") from exc
        except ValueError as exc:  # a body that is not Twilio's JSON
            raise SendOutcomeUnknown("Twilio's answer could not be read") from exc
        if not sent.sid:
            raise SendOutcomeUnknown("Twilio's answer had no message SID")
        return SendReceipt(sid=str(sent.sid), status=str(sent.status or "queued"))


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached Twilio: refused, or timed out connecting."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)
