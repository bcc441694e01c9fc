from django.apps import AppConfig


class FrontdeskConfig(AppConfig):
    """What every channel shares: verifying Twilio, storing, answer rules, a turn with fallback."""

    name = "frontdesk"
    verbose_name = "Front desk"
