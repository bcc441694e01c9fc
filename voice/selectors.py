from conversations.models import Channel, Conversation
from conversations.statements import conversation_of_session
from tenants.models import Organization, PhoneNumber
from tenants.rows import hot_path_sql
from voice.calls import call_session_id


def call_conversation(*, organization: Organization, call_sid: str) -> Conversation | None:
    """The conversation of this call (None for a CallSid this clinic never answered)."""
    session_id = call_session_id(call_sid)
    if hot_path_sql():
        found = conversation_of_session(
            organization=organization, session_id=session_id, channel=Channel.VOICE
        )
    else:
        found = (
            Conversation.objects.filter(
                organization=organization, session_id=session_id, channel=Channel.VOICE
            )
            .order_by("-id")
            .first()
        )
    if found is not None:
        found.organization = organization  # the caller's, not read again
    return found


def number_texts(*, organization: Organization, number: str) -> bool:
    """Whether the clinic's `number` can send texts (SMS enabled and active)."""
    return PhoneNumber.objects.filter(
        organization=organization, number=number, sms_enabled=True, is_active=True
    ).exists()
