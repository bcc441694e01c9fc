"""The project's URLs plus /bench/bare: the framework's ceiling, beside the real webhook."""

from django.urls import path

from bench.views import bare_twiml
from lexi.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("bench/bare", bare_twiml, name="bench-bare")]
