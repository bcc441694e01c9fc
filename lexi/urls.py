from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from lexi.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/twilio/", include("sms.urls")),
    path("admin/", admin.site.urls),
]

if getattr(settings, "LEXI_BENCH_ENDPOINTS", False):  # only under bench/settings.py
    from bench.views import bare_twiml

    urlpatterns.append(path("bench/bare", bare_twiml, name="bench-bare"))
