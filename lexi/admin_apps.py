from django.contrib.admin.apps import AdminConfig


class LexiAdminConfig(AdminConfig):
    """django.contrib.admin with Lexi's tenant-scoped site as `admin.site`."""

    default_site = "lexi.admin_site.LexiAdminSite"
