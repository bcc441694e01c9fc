from django.conf import settings

from lexi.engines import Engine
from tenants.models import Organization

ReplyMode = Organization.ReplyMode


def reply_mode_for(organization: Organization, *, engine: Engine) -> str:
    """How the clinic's texts are answered: inline TwiML, or queued for a worker.

    The clinic's own choice, else LEXI_REPLY_MODE, else inline for an engine that answers
    within the transaction (offline: milliseconds) and queued for a model (seconds).
    """
    mode = organization.lexi_reply_mode or settings.LEXI_REPLY_MODE
    if mode in (ReplyMode.TWIML, ReplyMode.QUEUED):
        return mode
    return ReplyMode.TWIML if engine.answers_in_transaction else ReplyMode.QUEUED
