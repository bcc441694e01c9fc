"""Booking's domain errors. Each carries a stable `code` for tools and a patient-safe `message`.

The messages may be shown to a patient as they are: they never name another patient, another
organization or an internal id.
"""


class BookingError(Exception):
    code: str = "booking_error"
    default_message: str = "Sorry, I couldn't do that."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class SlotInvalid(BookingError):
    """The slot id is forged, tampered with, another organization's, or no longer offered."""

    code = "invalid_slot"
    default_message = "That time is no longer available. Please choose one of the times offered."


class SlotTaken(BookingError):
    """Someone else booked an overlapping time since the slot was offered."""

    code = "slot_taken"
    default_message = "Sorry, that time was just taken. Would another time work?"


class PatientBusy(BookingError):
    """The patient already has a scheduled appointment overlapping that time (any provider)."""

    code = "patient_busy"
    default_message = "You already have an appointment at that time. Would another time work?"


class RepeatVisit(BookingError):
    """The patient already has a visit of that type close by: probably a move, not a new one."""

    code = "repeat_visit"
    default_message = (
        "The patient already has a visit of that type within two weeks. Do they want to move "
        "that visit, or book another one as well?"
    )


class PatientNotFound(BookingError):
    code = "patient_not_found"
    default_message = "I couldn't find that patient."


class AppointmentNotFound(BookingError):
    code = "appointment_not_found"
    default_message = "I couldn't find that appointment."


class AppointmentNotChangeable(BookingError):
    """The appointment is cancelled, completed, a no-show, or already in the past."""

    code = "appointment_not_changeable"
    default_message = "That appointment can no longer be changed."


class InvalidPatientData(BookingError):
    code = "invalid_patient"
    default_message = "Please check the name and date of birth."
