from .event import Event, EventSession, Question, QuestionKind
from .outbox import MailKind, OutboxMessage, OutboxStatus
from .registration import Registration, Sector, Status
from .scan import Scan, ScanResult
from .staff import ApiToken, LoginAttempt, Role, StaffUser, staff_event

__all__ = [
    "Event", "EventSession", "Question", "QuestionKind",
    "MailKind", "OutboxMessage", "OutboxStatus",
    "Registration", "Sector", "Status",
    "Scan", "ScanResult",
    "ApiToken", "LoginAttempt", "Role", "StaffUser", "staff_event",
]
