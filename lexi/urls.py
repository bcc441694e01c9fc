from django.contrib import admin
from django.urls import include, path

from lexi.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/twilio/", include("sms.urls")),
    path("api/twilio/", include("voice.urls")),
    path("admin/", admin.site.urls),
]
