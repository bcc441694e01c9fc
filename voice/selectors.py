from conversations.models import Channel, Conversation
from tenants.models import Organization, PhoneNumber
from voice.calls import call_session_id


def call_conversation(*, organization: Organization, call_sid: str) -> Conversation | None:
    """The conversation of this call (None for a CallSid this clinic never answered)."""
    return (
        Conversation.objects.filter(
            organization=organization, session_id=call_session_id(call_sid), channel=Channel.VOICE
        )
        .order_by("-id")
        .first()
    )


def number_texts(*, organization: Organization, number: str) -> bool:
    """Whether the clinic's `number` can send texts (SMS enabled and active)."""
    return PhoneNumber.objects.filter(
        organization=organization, number=number, sms_enabled=True, is_active=True
    ).exists()
