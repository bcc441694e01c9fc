"""The names of Lexi's tools: the one place a tool's name is spelled."""

from enum import StrEnum

__all__ = ["ToolName"]


class ToolName(StrEnum):
    GET_OFFICE_INFO = "get_office_info"
    FIND_PATIENT = "find_patient"
    REGISTER_PATIENT = "register_patient"
    LIST_APPOINTMENTS = "list_appointments"
    FIND_SLOTS = "find_slots"
    BOOK_APPOINTMENT = "book_appointment"
    RESCHEDULE_APPOINTMENT = "reschedule_appointment"
    CANCEL_APPOINTMENT = "cancel_appointment"
    HAND_OFF_TO_STAFF = "hand_off_to_staff"
