"""One INFO line per step of receiving a message: `<channel> step=<step> org=<slug> key=value`.

Only counts, ids and outcomes go in the fields: phone numbers and bodies stay out of INFO.
"""

import logging
import time
from typing import Any

from tenants.models import Organization

logger = logging.getLogger(__name__)


def step_log(step: str, organization: Organization, *, channel: str = "sms", **fields: Any) -> None:
    details = " ".join(f"{key}={value}" for key, value in fields.items())
    logger.info("%s step=%s org=%s %s", channel, step, organization.slug, details)


def ms_since(started: float) -> int:
    """Milliseconds since a `time.monotonic()` reading."""
    return int((time.monotonic() - started) * 1000)
