from django.apps import AppConfig


class LexiConfig(AppConfig):
    name = "lexi"
    verbose_name = "Lexi"
