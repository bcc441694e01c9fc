"""Lexi's engines: OpenAI tool calling, and the deterministic offline receptionist."""

from django.conf import settings

from lexi.engines.base import Engine, EngineFailure
from tenants.models import Organization

__all__ = ["Engine", "EngineFailure", "engine_for", "engine_name_for"]


def engine_name_for(organization: Organization) -> str:
    """The organization's engine, else the server's; OpenAI without an API key means offline."""
    name = organization.lexi_engine or settings.LEXI_ENGINE
    if name == "openai" and not settings.OPENAI_API_KEY:
        return "offline"
    return name if name in ("openai", "offline") else "offline"


def engine_for(organization: Organization) -> Engine:
    if engine_name_for(organization) == "openai":
        from lexi.engines.openai import OpenAIEngine

        return OpenAIEngine(model=organization.lexi_model or settings.LEXI_MODEL)
    return offline_engine()


def offline_engine() -> Engine:
    # Imported late: the offline engine imports the tools, which import the booking app.
    from lexi.engines.offline import OfflineEngine

    return OfflineEngine()
