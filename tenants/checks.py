"""System checks that keep the tenant wall whole, and deploy checks for secrets."""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks

from tenants.scoping import TenantManager


def _label(model: object) -> str:
    return model if isinstance(model, str) else model._meta.label  # type: ignore[attr-defined]


def _owned_by_organization(model: type) -> bool:
    return any(
        field.many_to_one and _label(field.related_model).lower() == "tenants.organization"
        for field in model._meta.get_fields()  # type: ignore[attr-defined]
    )


@checks.register(checks.Tags.models)
def check_tenant_models_use_tenant_manager(app_configs: Any = None, **kwargs: Any) -> list:
    """Every model with an organization foreign key must use the fail-closed manager."""
    errors = []
    for model in apps.get_models():
        if not _owned_by_organization(model):
            continue
        manager = model._default_manager
        if not isinstance(manager, TenantManager):
            errors.append(
                checks.Error(
                    f"{model._meta.label} has an organization foreign key but its default "
                    "manager is not the tenant manager.",
                    hint="Inherit from tenants.scoping.TenantModel.",
                    obj=model,
                    id="tenants.E001",
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_twilio_token_configured(app_configs: Any = None, **kwargs: Any) -> list:
    if settings.TWILIO_AUTH_TOKEN:
        return []
    return [
        checks.Warning(
            "TWILIO_AUTH_TOKEN is not set: the SMS webhook will refuse every request (403) "
            "unless an organization carries its own Twilio auth token.",
            id="tenants.W001",
        )
    ]
