from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    default = True
    name = "console"
    verbose_name = "Staff console"


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the console's tenant-scoped site as `admin.site`."""

    default = False  # installed by its dotted path; `console` alone means ConsoleConfig
    default_site = "console.site.LexiAdminSite"
