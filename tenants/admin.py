from django.contrib import admin

from tenants.models import Membership, Organization, PhoneNumber

admin.site.register(Organization)
admin.site.register(Membership)
admin.site.register(PhoneNumber)
