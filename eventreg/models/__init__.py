from .event import Event, EventSession, Question, QuestionKind
from .outbox import MailKind, OutboxMessage, OutboxStatus
from .registration import Registration, Sector, Status
from .scan import Scan, ScanMethod, ScanResult
from .staff import ApiToken, LoginAttempt, Role, StaffSession, StaffUser, staff_event
from .work import Job, JobKind, JobStatus, ScheduledTask, StoredFile, TaskKind

__all__ = [
    "Event", "EventSession", "Question", "QuestionKind",
    "MailKind", "OutboxMessage", "OutboxStatus",
    "Registration", "Sector", "Status",
    "Scan", "ScanMethod", "ScanResult",
    "ApiToken", "LoginAttempt", "Role", "StaffSession", "StaffUser", "staff_event",
    "Job", "JobKind", "JobStatus", "ScheduledTask", "StoredFile", "TaskKind",
]
