from conversations.models import Conversation, Message


def messages_recent(*, conversation: Conversation, limit: int) -> list[Message]:
    """The last `limit` messages, oldest first (the window Lexi remembers)."""
    newest_first = Message.objects.filter(conversation=conversation).order_by("-timestamp", "-id")[
        :limit
    ]
    return list(reversed(newest_first))
