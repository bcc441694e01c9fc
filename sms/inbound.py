"""Twilio's inbound-message webhook params, parsed once into what the channel uses."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tenants.phone import InvalidPhoneNumber, phone_normalize


@dataclass(frozen=True)
class InboundSms:
    """One Twilio inbound message webhook, as the fields we use plus the whole param set."""

    message_sid: str
    account_sid: str
    from_number: str
    to_number: str
    body: str
    messaging_service_sid: str = ""
    num_segments: int | None = None
    media: list[dict[str, str]] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "InboundSms":
        """Build from already-validated webhook params; NUL bytes are dropped everywhere.

        Names too: the params are kept as JSON, and PostgreSQL cannot store a NUL in it.
        """
        clean = {strip_nul(str(key)): strip_nul(str(value)) for key, value in params.items()}
        media = []
        for index in range(_int_or_none(clean.get("NumMedia")) or 0):
            url = clean.get(f"MediaUrl{index}", "")
            if url:
                media.append(
                    {"url": url, "content_type": clean.get(f"MediaContentType{index}", "")}
                )
        return cls(
            message_sid=clean["MessageSid"],
            account_sid=clean.get("AccountSid", ""),
            from_number=_normalized(clean["From"]),
            to_number=_normalized(clean["To"]),
            body=clean.get("Body", ""),
            messaging_service_sid=clean.get("MessagingServiceSid", ""),
            num_segments=_int_or_none(clean.get("NumSegments")),
            media=media,
            params=clean,
        )

    @property
    def session_id(self) -> str:
        return sms_session_id(patient_phone=self.from_number, clinic_number=self.to_number)


def sms_session_id(*, patient_phone: str, clinic_number: str) -> str:
    """The SMS thread of one patient phone with one clinic number, whoever texts first."""
    return f"sms_{_digits(patient_phone)}_{_digits(clinic_number)}"


def strip_nul(value: str) -> str:
    return value.replace("\x00", "")


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _normalized(number: str) -> str:
    try:
        return phone_normalize(number)
    except InvalidPhoneNumber:
        return number.strip()


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
