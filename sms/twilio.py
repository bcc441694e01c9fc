"""TwiML for the SMS channel: the inline reply, and reading it back (command and tests)."""

from xml.etree import ElementTree

from twilio.twiml.messaging_response import MessagingResponse

__all__ = ["twiml_messages", "twiml_reply"]


def twiml_reply(text: str | None) -> str:
    """A MessagingResponse with one message, or an empty one (no reply)."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response.to_xml(xml_declaration=True))


def twiml_messages(xml: str) -> list[str]:
    """The texts of the <Message> verbs of a TwiML document."""
    # Parsed only for our own command and tests, on TwiML that our server rendered.
    root = ElementTree.fromstring(xml)  # noqa: S314 -- our own server's TwiML, not foreign XML
    return [(node.text or "") for node in root.iter("Message")]
