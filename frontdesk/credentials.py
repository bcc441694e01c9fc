from dataclasses import dataclass

from django.conf import settings

from tenants.models import Organization


@dataclass(frozen=True)
class TwilioCredentials:
    """A Twilio account: its auth token (verifies webhooks, authenticates REST calls) and SID."""

    auth_token: str
    account_sid: str


def twilio_credentials(*, organization: Organization | None) -> TwilioCredentials:
    """The organization's own subaccount credentials when it has a token, else the global ones.

    An empty auth_token means nothing can verify the request: the caller must refuse it.
    """
    if organization is not None and organization.twilio_auth_token:
        return TwilioCredentials(organization.twilio_auth_token, organization.twilio_account_sid)
    return TwilioCredentials(settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID)
