"""Moved to console/scoping.py; kept importable until sms/admin.py imports it from there."""

from console.scoping import RecordAdminMixin, TenantAdmin, is_platform_admin

__all__ = ["RecordAdminMixin", "TenantAdmin", "is_platform_admin"]
