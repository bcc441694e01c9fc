"""Lexi's engines: OpenAI tool calling, and the deterministic offline receptionist.

The engine is chosen once per turn, by `engine_for`; callers ask the engine's attributes
(`answers_in_transaction`, `falls_back`), never its name.
"""

from django.conf import settings

from lexi.engines.base import Engine, EngineFailure
from lexi.engines.offline import OfflineEngine
from lexi.engines.openai import OpenAIEngine
from tenants.models import Organization

__all__ = ["Engine", "EngineFailure", "engine_for", "engine_name_for", "offline_engine"]

_ENGINES = frozenset(Organization.Engine.values)


def engine_name_for(organization: Organization) -> str:
    """The organization's engine, else the server's; OpenAI without an API key means offline."""
    name = organization.lexi_engine or settings.LEXI_ENGINE
    if name == Organization.Engine.OPENAI and not settings.OPENAI_API_KEY:
        return Organization.Engine.OFFLINE
    return name if name in _ENGINES else Organization.Engine.OFFLINE


def engine_for(organization: Organization) -> Engine:
    """The engine that answers this organization's turn: choose it once, per turn."""
    if engine_name_for(organization) == Organization.Engine.OPENAI:
        return OpenAIEngine(model=organization.lexi_model or settings.LEXI_MODEL)
    return offline_engine()


def offline_engine() -> OfflineEngine:
    return OfflineEngine()
