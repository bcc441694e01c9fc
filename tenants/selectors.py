import logging
import uuid

from django.conf import settings
from django.db import connection
from django.db.models.expressions import RawSQL

from tenants.models import Membership, Organization, PhoneNumber
from tenants.phone import InvalidPhoneNumber, phone_mask, phone_normalize
from tenants.scoping import unscoped

logger = logging.getLogger(__name__)


def organization_for_number(
    number: str, messaging_service_sid: str | None = None
) -> Organization | None:
    """The active organization that owns `number` (then `messaging_service_sid`).

    The one lookup made before any tenant is known. Falls back to LEXI_DEFAULT_ORGANIZATION
    when set (with a warning), else returns None.
    """
    try:
        normalized = phone_normalize(number)
    except InvalidPhoneNumber:
        normalized = ""
    owner = _number_owner(normalized, messaging_service_sid or "")
    if owner is not None:
        return owner
    return _default_organization(number)


def _number_owner(number: str, messaging_service_sid: str) -> Organization | None:
    if connection.vendor == "postgresql":
        # Row-level security hides every number until the organization is known: ask the
        # narrow SECURITY DEFINER function, which returns an organization id and nothing else.
        owner_id = RawSQL("SELECT lexi_route_number(%s, %s)", [number, messaging_service_sid])
        return Organization.objects.filter(pk=owner_id).first()
    with unscoped():
        active = PhoneNumber.objects.filter(is_active=True, organization__is_active=True)
        owner = active.filter(number=number).select_related("organization").first()
        if owner is None and messaging_service_sid:
            owner = (
                active.filter(messaging_service_sid=messaging_service_sid)
                .select_related("organization")
                .first()
            )
    return owner.organization if owner is not None else None


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
