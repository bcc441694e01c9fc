"""Logging that keeps patients' phone numbers out of every record above DEBUG.

Code masks what it logs on purpose (`tenants.phone.phone_mask`); this formatter is the safety
net for what it does not control: exception texts and tracebacks (a database error quotes the
row it refused), third-party messages.
"""

import logging
import re

# A phone number as it appears in logs: E.164 or a formatted national number (10+ digits).
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d(?:[\s().-]{0,2}\d){9,14}(?![\w:])")


def phone_numbers_mask(text: str) -> str:
    """'+18504036622' -> '+*********22'; keeps the last two digits for correlation."""
    return _PHONE.sub(lambda m: re.sub(r"\d", "*", m.group()[:-2]) + m.group()[-2:], text)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno <= logging.DEBUG else phone_numbers_mask(text)
