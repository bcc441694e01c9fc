from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Development only (like Zulip's zilencer): installed by bench/settings.py, never in
    production. Holds `bench_seed` and the /bench/bare endpoint."""

    name = "bench"
    verbose_name = "Bench (development only)"
