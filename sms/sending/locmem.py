"""Keeps each text in `outbox` instead of sending it (tests read it, like Django's mail.outbox)."""

import uuid

from sms.sending import OutboundSms, SendReceipt

outbox: list[OutboundSms] = []


class LocmemBackend:
    def send(self, message: OutboundSms) -> SendReceipt:
        outbox.append(message)
        return SendReceipt(sid="SMlocmem" + uuid.uuid4().hex[:24], status="sent")
