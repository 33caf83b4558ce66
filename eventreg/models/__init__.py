from .event import Event, EventSession, Question, QuestionKind
from .outbox import MailKind, OutboxMessage, OutboxStatus
from .registration import Registration, Sector, Status

__all__ = [
    "Event", "EventSession", "Question", "QuestionKind",
    "MailKind", "OutboxMessage", "OutboxStatus",
    "Registration", "Sector", "Status",
]
