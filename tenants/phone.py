"""Phone numbers in one form: E.164, parsed with `phonenumbers` (US by default)."""

import phonenumbers

DEFAULT_REGION = "US"


class InvalidPhoneNumber(ValueError):
    pass


def phone_normalize(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """'(850) 403-6622', '18504036622', '+1 850-403-6622' -> '+18504036622'.

    Raises InvalidPhoneNumber for anything that is not a possible number.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    if text.startswith("whatsapp:"):
        text = text.removeprefix("whatsapp:")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(str(exc)) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_mask(number: str) -> str:
    """Keep the last two digits only, for logs: '+18504036622' -> '+*********22'."""
    if not number:
        return ""
    return number[0] + "*" * max(len(number) - 3, 0) + number[-2:]
