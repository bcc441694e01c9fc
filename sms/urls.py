from django.urls import path

from sms.views import IncomingSmsView, MessageStatusView

urlpatterns = [
    path("incoming-sms", IncomingSmsView.as_view(), name="twilio-incoming-sms"),
    path("message-status", MessageStatusView.as_view(), name="twilio-message-status"),
]
