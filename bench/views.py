"""The bare endpoint: same server and middleware as the webhook, no work. The ceiling."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

BARE_TWIML = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hi! This is Lexi.</Message>'
    b"</Response>"
)


@csrf_exempt  # Twilio's webhook is CSRF-exempt too (DRF without session auth)
@require_POST
def bare_twiml(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BARE_TWIML, content_type="text/xml; charset=utf-8")
