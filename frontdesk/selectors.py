from django.conf import settings

from lexi.engines import engine_name_for
from tenants.models import Organization

ReplyMode = Organization.ReplyMode


def reply_mode_for(organization: Organization) -> str:
    """How the clinic's texts are answered: inline TwiML, or queued for a worker.

    The clinic's own choice, else LEXI_REPLY_MODE, else queued for a model (a turn takes
    seconds) and inline for the offline engine (it answers in milliseconds).
    """
    mode = organization.lexi_reply_mode or settings.LEXI_REPLY_MODE
    if mode in (ReplyMode.TWIML, ReplyMode.QUEUED):
        return mode
    return ReplyMode.TWIML if engine_name_for(organization) == "offline" else ReplyMode.QUEUED
