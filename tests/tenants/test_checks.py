import pytest
from django.core.checks import Error
from django.db import models
from django.test.utils import isolate_apps

from tenants.checks import check_tenant_models_use_tenant_manager, check_twilio_token_configured
from tenants.scoping import TenantModel


def test_project_models_pass_the_tenant_manager_check():
    assert check_tenant_models_use_tenant_manager() == []


@isolate_apps("tests")
def test_model_with_organization_fk_but_plain_manager_fails_the_check(monkeypatch):
    class Leaky(models.Model):  # noqa: DJ008 -- a throwaway model for the check
        organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE)

        class Meta:
            app_label = "tests"

    class Safe(TenantModel):
        class Meta:
            app_label = "tests"

    from django.apps import apps

    monkeypatch.setattr("tenants.checks.apps.get_models", lambda: [Leaky, Safe])
    errors = check_tenant_models_use_tenant_manager()
    assert [(e.id, e.obj) for e in errors] == [("tenants.E001", Leaky)]
    assert all(isinstance(e, Error) for e in errors)
    assert apps  # the real registry is untouched


def test_deploy_check_warns_without_twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert [w.id for w in check_twilio_token_configured()] == ["tenants.W001"]
    settings.TWILIO_AUTH_TOKEN = "secret"
    assert check_twilio_token_configured() == []


@pytest.mark.parametrize("debug", ["False", "0"])
def test_settings_refuse_to_start_without_secret_key_when_debug_is_off(debug, tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(DEBUG=debug, SECRET_KEY="", DJANGO_SETTINGS_MODULE="lexi.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_start_with_secret_key_when_debug_is_off(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, DEBUG="False", SECRET_KEY="x" * 50)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('ok')"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
