import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from conversations.models import Channel
from tenants.models import Membership, Organization, PhoneNumber
from tenants.phone import InvalidPhoneNumber, phone_mask, phone_normalize
from tenants.scoping import unscoped
from tenants.statements import organization_routed

logger = logging.getLogger(__name__)


# What each channel's webhook may route to: the capability a number needs to take it.
_CAPABILITY: dict[str, str] = {Channel.SMS: "sms_enabled", Channel.VOICE: "voice_enabled"}


def organization_for_number(
    number: str, messaging_service_sid: str | None = None, *, channel: str
) -> Organization | None:
    """The organization of the active row holding `number` (else `messaging_service_sid`), if
    that organization is active and the row takes `channel` (sms or voice); else None.

    The one lookup made before any tenant is known. A number or service that no active row
    holds falls back to LEXI_DEFAULT_ORGANIZATION when set (with a warning). Raises ValueError
    for a channel that numbers do not route.
    """
    if channel not in _CAPABILITY:
        raise ValueError(f"numbers route sms or voice, not {channel!r}")
    try:
        normalized = phone_normalize(number)
    except InvalidPhoneNumber:
        normalized = ""
    service = messaging_service_sid or ""
    owner = _number_owner(normalized, service, channel=channel)
    if owner is not None or not settings.LEXI_DEFAULT_ORGANIZATION:
        return owner
    if number_claims(number=normalized, messaging_service_sid=service, excluding_pk=None):
        return None  # held by a clinic that cannot take the channel now: not an unmapped number
    return _default_organization(number)


def _number_owner(number: str, messaging_service_sid: str, *, channel: str) -> Organization | None:
    if connection.vendor == "postgresql":
        # Row-level security hides every number until the organization is known: ask the
        # narrow SECURITY DEFINER function, which returns an organization id and nothing else.
        return organization_routed(
            number=number, messaging_service_sid=messaging_service_sid, channel=str(channel)
        )
    with unscoped():
        active = PhoneNumber.objects.filter(is_active=True).select_related("organization")
        holder = active.filter(number=number).first()
        if holder is None and messaging_service_sid:
            holder = active.filter(messaging_service_sid=messaging_service_sid).first()
    if holder is None or not holder.organization.is_active:
        return None
    return holder.organization if getattr(holder, _CAPABILITY[channel]) else None


@dataclass(frozen=True)
class NumberClaim:
    """An active number row, in any organization, that already holds a number or service SID."""

    field: str  # "number" or "messaging_service_sid"
    organization_id: uuid.UUID


def number_claims(
    *, number: str, messaging_service_sid: str, excluding_pk: int | None
) -> list[NumberClaim]:
    """Active rows other than `excluding_pk` holding `number` or `messaging_service_sid`.

    Sees every organization, even inside a tenant scope (through a SECURITY DEFINER function
    on PostgreSQL), so that the admin can explain a refusal the database would otherwise make.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT field, organization_id FROM lexi_number_claims(%s, %s, %s)",
                [number, messaging_service_sid, excluding_pk],
            )
            return [NumberClaim(field=field, organization_id=org) for field, org in cursor]
    with unscoped():
        active = PhoneNumber.objects.filter(is_active=True).exclude(pk=excluding_pk)
        claims = [
            NumberClaim(field="number", organization_id=org)
            for org in active.filter(number=number).values_list("organization_id", flat=True)
        ]
        if messaging_service_sid:
            claims += [
                NumberClaim(field="messaging_service_sid", organization_id=org)
                for org in active.filter(messaging_service_sid=messaging_service_sid).values_list(
                    "organization_id", flat=True
                )
            ]
    return claims


def _default_organization(number: str) -> Organization | None:
    slug = settings.LEXI_DEFAULT_ORGANIZATION
    if not slug:
        return None
    organization = Organization.objects.filter(slug=slug, is_active=True).first()
    if organization is None:
        logger.warning("LEXI_DEFAULT_ORGANIZATION=%s names no active organization", slug)
        return None
    logger.warning(
        "number %s is not mapped; routing to the default organization %s",
        phone_mask(number),
        slug,
    )
    return organization


def organizations_for_user(user: object) -> list[Organization]:
    """The organizations a staff user may see: their memberships (every one for a superuser)."""
    if not getattr(user, "is_authenticated", False):
        return []
    if getattr(user, "is_superuser", False):
        return list(Organization.objects.all())
    return list(Organization.objects.filter(pk__in=_member_organization_ids(user), is_active=True))


def _member_organization_ids(user: object) -> list[uuid.UUID]:
    user_id = getattr(user, "pk", None)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT lexi_user_organization_ids(%s)", [user_id])
            return [row[0] for row in cursor.fetchall()]
    with unscoped():
        return list(
            Membership.objects.filter(user_id=user_id).values_list("organization_id", flat=True)
        )
