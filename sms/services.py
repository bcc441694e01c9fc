"""Receive one inbound text: store it, decide how to answer, run Lexi's turn, store the reply.

The view verifies and routes; everything here runs inside the organization's tenant scope.
The patient's message is committed before anything else can fail, so it is never lost: a
failure after that point turns into a polite fallback text and a flag for staff.

This module is the entry point; storing.py holds the writes and the replay of a retried
MessageSid, answering.py the rules that decide the answer.
"""

import logging
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import DatabaseError, transaction

from lexi.engines import engine_name_for
from sms.answering import FLOOD_WINDOW, LEXI_OFF_REASON, fallback_answer, inbound_answer
from sms.inbound import InboundSms
from sms.models import UnroutedMessage
from sms.outcomes import Outcome, SmsResult, SmsUnavailable
from sms.steplog import ms_since, step_log
from sms.storing import CHANNEL_METADATA, inbound_store, opt_out_record
from tenants.models import Organization
from tenants.phone import phone_mask
from tenants.scoping import tenant_scope

# What callers import from here, wherever it is defined.
__all__ = [
    "CHANNEL_METADATA",
    "FLOOD_WINDOW",
    "LEXI_OFF_REASON",
    "Outcome",
    "SmsResult",
    "SmsUnavailable",
    "opt_out_record",
    "sms_receive",
    "unrouted_message_store",
]

logger = logging.getLogger(__name__)


def sms_receive(*, organization: Organization, inbound: InboundSms) -> SmsResult:
    """Store an inbound text for `organization`, answer it, and return the reply.

    A MessageSid seen before returns the reply already given and stores nothing new.
    Raises SmsUnavailable when the database fails before the message is stored.
    """
    started = time.monotonic()
    with tenant_scope(organization):
        try:
            stored = inbound_store(organization=organization, inbound=inbound)
        except DatabaseError as exc:
            step_log("unavailable", organization, error=type(exc).__name__)
            raise SmsUnavailable from exc
        if isinstance(stored, SmsResult):
            return stored
        conversation, message, created = stored
        try:
            with _answer_transaction(organization):
                result = inbound_answer(
                    organization=organization,
                    conversation=conversation,
                    message=message,
                    inbound=inbound,
                )
        except Exception as exc:  # any failure must become a polite text
            result = fallback_answer(
                organization=organization, conversation=conversation, message=message, error=exc
            )
        step_log(
            "replied",
            organization,
            conversation=conversation.pk,
            new=created,
            outcome=result.outcome,
            replied=result.text is not None,
            duration_ms=ms_since(started),
        )
        return result


def _answer_transaction(organization: Organization) -> AbstractContextManager[Any]:
    """The whole answer in one transaction when no model is called: one commit, one tenant
    setting for row-level security, and a failed turn leaves nothing half-written. A turn that
    calls a model runs outside any transaction, so no lock waits on the network."""
    if engine_name_for(organization) == "offline":
        return transaction.atomic()
    return nullcontext()


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
