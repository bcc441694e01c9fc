import logging

from django.conf import settings

from tenants.models import Membership, Organization, PhoneNumber
from tenants.phone import InvalidPhoneNumber, phone_mask, phone_normalize
from tenants.scoping import unscoped

logger = logging.getLogger(__name__)


def organization_for_number(
    number: str, messaging_service_sid: str | None = None
) -> Organization | None:
    """The active organization that owns `number` (then `messaging_service_sid`).

    The one unscoped lookup: it runs before any tenant is known. Falls back to
    LEXI_DEFAULT_ORGANIZATION when set (with a warning), else returns None.
    """
    try:
        normalized = phone_normalize(number)
    except InvalidPhoneNumber:
        normalized = ""
    with unscoped():
        active = PhoneNumber.objects.filter(is_active=True, organization__is_active=True)
        owner = None
        if normalized:
            owner = active.filter(number=normalized).select_related("organization").first()
        if owner is None and messaging_service_sid:
            owner = (
                active.filter(messaging_service_sid=messaging_service_sid)
                .select_related("organization")
                .first()
            )
    if owner is not None:
        return owner.organization
    return _default_organization(number)


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
    with unscoped():
        member_of = Membership.objects.filter(user=user).values("organization_id")
        return list(Organization.objects.filter(pk__in=member_of, is_active=True))
