from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Clinics"

    def ready(self) -> None:
        from tenants import checks  # noqa: F401 -- registers the system checks
