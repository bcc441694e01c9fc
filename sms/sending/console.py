"""Prints each text instead of sending it, and records it as sent (local development)."""

import sys
import uuid

from sms.sending import OutboundSms, SendReceipt


class ConsoleBackend:
    def send(self, message: OutboundSms) -> SendReceipt:
        sid = "SMconsole" + uuid.uuid4().hex[:23]
        sys.stdout.write(
            f"----- SMS {sid} -----\n"
            f"From: {message.from_number} ({message.organization.name})\n"
            f"To: {message.to_number}\n\n{message.body}\n"
            "-------------------------\n"
        )
        sys.stdout.flush()
        return SendReceipt(sid=sid, status="sent")
