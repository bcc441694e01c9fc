from django.urls import path

from voice.views import CallStatusView, IncomingCallView, VoiceTurnView

urlpatterns = [
    path("incoming-call", IncomingCallView.as_view(), name="twilio-incoming-call"),
    path("voice-turn", VoiceTurnView.as_view(), name="twilio-voice-turn"),
    path("call-status", CallStatusView.as_view(), name="twilio-call-status"),
]
