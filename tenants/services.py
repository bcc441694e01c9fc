from tenants.models import Organization, PhoneNumber
from tenants.phone import phone_normalize
from tenants.scoping import tenant_scope


def phone_number_add(
    *,
    organization: Organization,
    number: str,
    channel: str = PhoneNumber.Channel.SMS,
    friendly_name: str = "",
    messaging_service_sid: str = "",
) -> PhoneNumber:
    """Attach a number (any common format, stored as E.164) to an organization."""
    with tenant_scope(organization):
        return PhoneNumber.objects.create(
            organization=organization,
            number=phone_normalize(number),
            channel=channel,
            friendly_name=friendly_name,
            messaging_service_sid=messaging_service_sid,
        )
