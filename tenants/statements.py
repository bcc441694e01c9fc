"""Hand-written SQL on the texted turn's hot path (tenants/rows.py says why)."""

from __future__ import annotations

from tenants.models import Organization
from tenants.rows import instance_from_row, row_read, select_list, table


def organization_routed(
    *, number: str, messaging_service_sid: str, channel: str
) -> Organization | None:
    """The organization the SECURITY DEFINER routing function names, read in the same statement."""
    row = row_read(
        f"SELECT {select_list(Organization)} FROM {table(Organization)} "
        "WHERE id = lexi_route_number(%s, %s, %s)",
        [number, messaging_service_sid, channel],
    )
    return instance_from_row(Organization, row) if row is not None else None
