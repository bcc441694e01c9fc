"""Twilio's delivery error codes in words, for staff reading a transcript."""

ERROR_TEXTS = {
    21211: "the phone number is not valid",
    21408: "texts to this region are not enabled on the account",
    21610: "the patient has opted out (replied STOP)",
    21612: "this number cannot be reached from the clinic's number",
    21614: "the number is not a mobile number that can receive texts",
    30003: "the phone is switched off or unreachable",
    30004: "the message was blocked by the recipient's carrier or phone",
    30005: "the number is unknown or no longer in service",
    30006: "the number is a landline or cannot receive texts",
    30007: "the carrier filtered the message as spam",
    30008: "the carrier could not deliver it (unknown error)",
}


def delivery_error_text(code: int | None) -> str:
    """What a Twilio error code means, in a phrase; a generic one for a code we don't know."""
    if code is None:
        return "no reason was given"
    return ERROR_TEXTS.get(code, f"Twilio error {code}")
