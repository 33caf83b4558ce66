from .audit import AuditEntry
from .building_list import SecurityListSend
from .certificate import Certificate
from .desk_sync import CheckinConflict, DeskOperation, DeskTask
from .event import (
                    DEFAULT_SECURITY_COLUMNS,
                    AttendanceMode,
                    Event,
                    EventSession,
                    EventStatus,
                    Question,
                    QuestionKind,
                    ReminderRule,
                    SecurityFormat,
)
from .outbox import AttendeeMessage, MailKind, MessageOptOut, MessageStatus, OutboxMessage, OutboxStatus
from .pass_qr import PassQr
from .registration import Registration, Sector, Status
from .scan import Scan, ScanMethod, ScanResult
from .staff import ApiToken, EventMember, EventRole, Invitation, LoginAttempt, Role, StaffSession, StaffUser
from .survey import Survey, SurveyAnswer, SurveyKind, SurveyQuestion, SurveyResponse
from .work import Job, JobKind, JobStatus, ScheduledTask, StoredFile, TaskKind

__all__ = [
    "AuditEntry",
    "AttendanceMode", "DEFAULT_SECURITY_COLUMNS", "Event", "EventSession", "EventStatus", "Question", "QuestionKind", "ReminderRule",
    "SecurityFormat",
    "AttendeeMessage", "MailKind", "MessageOptOut", "MessageStatus", "OutboxMessage", "OutboxStatus",
    "PassQr", "Registration", "Sector", "Status",
    "Scan", "ScanMethod", "ScanResult",
    "SecurityListSend",
    "CheckinConflict", "DeskOperation", "DeskTask",
    "ApiToken", "EventMember", "EventRole", "Invitation", "LoginAttempt", "Role", "StaffSession", "StaffUser",
    "Job", "JobKind", "JobStatus", "ScheduledTask", "StoredFile", "TaskKind",
    "Certificate",
    "Survey", "SurveyAnswer", "SurveyKind", "SurveyQuestion", "SurveyResponse",
]
