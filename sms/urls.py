from django.urls import path

from sms.views import IncomingSmsView

urlpatterns = [
    path("incoming-sms", IncomingSmsView.as_view(), name="twilio-incoming-sms"),
]
