"""Receive one inbound text: store it, decide how to answer, answer (or queue), keep the record.

The view verifies and routes; everything here runs inside the organization's tenant scope,
opened by the view. The patient's message is committed before anything else can fail, so it
is never lost: a failure after that point turns into a polite fallback text and a flag for
staff. storing.py holds the inbound write, answering.py the rules that decide the answer,
replying.py the worker's side of the queued reply mode.
"""

import logging
import time

from django.db import DatabaseError, transaction
from django.utils import timezone, translation

from conversations.models import Conversation, Message, Outcome
from frontdesk.outcomes import AnswerResult, AnswerUnavailable
from frontdesk.replies import fallback_text
from frontdesk.selectors import ReplyMode, reply_mode_for
from frontdesk.steplog import ms_since, step_log
from frontdesk.storing import answer_replayed
from frontdesk.turns import fallback_answer
from lexi.engines import engine_for
from sms.answering import FLOOD_WINDOW, inbound_answer
from sms.inbound import InboundSms
from sms.models import UnroutedMessage
from sms.selectors import text_standing_locked
from sms.storing import inbound_store
from sms.tasks import sms_reply_enqueue
from tenants.models import Organization
from tenants.phone import phone_mask
from tenants.scoping import scope_required

logger = logging.getLogger(__name__)


def sms_receive(*, organization: Organization, inbound: InboundSms) -> AnswerResult:
    """Store an inbound text for `organization`, answer it, and return the inline reply.

    A MessageSid seen before returns the reply already given and stores nothing new.
    Raises AnswerUnavailable when the database fails before the message is stored.
    """
    scope_required(organization)
    started = time.monotonic()
    try:
        stored = inbound_store(organization=organization, inbound=inbound)
    except DatabaseError as exc:
        step_log("unavailable", organization, error=type(exc).__name__)
        raise AnswerUnavailable from exc
    conversation, message = stored.conversation, stored.message
    engine = engine_for(organization)  # chosen once for the turn
    queued = reply_mode_for(organization, engine=engine) == ReplyMode.QUEUED
    try:
        # Lexi's own texts (help, slow down, fallback...) in the patient's language.
        with translation.override(stored.language), transaction.atomic():
            # The lock is held until the answer commits: a retry of this MessageSid waits here
            # for it, and whichever request takes it first answers (a retry of a text whose
            # answer died with the database gets a fresh answer; one answered gets the same).
            standing = text_standing_locked(
                organization=organization,
                conversation=conversation,
                message=message,
                phone=inbound.from_number,
                since=timezone.now() - FLOOD_WINDOW,
            )
            if standing.outcome != Outcome.PENDING:
                result = None
            else:
                result = inbound_answer(
                    organization=organization,
                    conversation=conversation,
                    message=message,
                    inbound=inbound,
                    engine=engine,
                    queued=queued,
                    standing=standing,
                )
                if result.outcome == Outcome.QUEUED:
                    sms_reply_enqueue(organization=organization, conversation_id=conversation.pk)
    except Exception as exc:  # any failure must become a polite text
        with translation.override(stored.language):
            result = _fallback(
                organization=organization, conversation=conversation, message=message, error=exc
            )
    if result is None:
        return answer_replayed(organization=organization, message=message)
    step_log(
        "replied",
        organization,
        conversation=conversation.pk,
        new=stored.conversation_created,
        outcome=result.outcome,
        replied=result.text is not None,
        duration_ms=ms_since(started),
    )
    return result


def _fallback(
    *, organization: Organization, conversation: Conversation, message: Message, error: Exception
) -> AnswerResult:
    reply = fallback_answer(
        organization=organization,
        conversation=conversation,
        message=message,
        error=error,
    )
    text = reply.content if reply is not None else fallback_text(organization)
    return AnswerResult(
        text=text, outcome=Outcome.FALLBACK, conversation_id=message.conversation_id
    )


def unrouted_message_store(*, inbound: InboundSms) -> UnroutedMessage:
    """Keep a text to a number no organization owns, where platform staff can see it."""
    unrouted, created = UnroutedMessage.objects.get_or_create(
        message_sid=inbound.message_sid,
        defaults={
            "from_number": inbound.from_number,
            "to_number": inbound.to_number,
            "body": inbound.body,
            "params": inbound.params,
        },
    )
    logger.warning(
        "sms step=unrouted to=%s from=%s messaging_service=%s new=%s",
        phone_mask(inbound.to_number),
        phone_mask(inbound.from_number),
        inbound.messaging_service_sid or "-",
        created,
    )
    return unrouted
