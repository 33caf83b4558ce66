"""The survey after an event (アンケート): its questions, one response per registration, the answers.

Answers are rows (``SurveyAnswer``: one per question, one per chosen choice of a "multi"
question), not a JSON column: the results page and the cross-event statistics count choices,
average the scales and split the NPS by GROUP BY in SQL on both databases, and the purge can
delete the free-text rows alone (domain.insight.surveys_privacy).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime


class SurveyKind(str, enum.Enum):
    scale5 = "scale5"  # 1 (low) .. 5 (high): value_number
    single = "single"  # one of the choices: value_text
    multi = "multi"  # several choices: one row per chosen choice (value_text)
    text = "text"  # free text: value_text
    come_again = "come_again"  # "yes" | "maybe" | "no": value_text
    nps = "nps"  # 0 .. 10 (would you recommend): value_number


class Survey(db.Model):
    """At most one survey per event."""

    __tablename__ = "survey"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(200))  # in the event's language
    intro: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Optional English versions: English registrants read them when set (surveys.in_language).
    title_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    intro_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    # NULL: answerable as soon as the person has checked in. closes_at: answers are read-only after.
    opens_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position, SurveyQuestion.id", cascade="all, delete-orphan")


class SurveyQuestion(db.Model):
    __tablename__ = "survey_question"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[SurveyKind] = mapped_column(db.Enum(SurveyKind, native_enum=False, length=16, validate_strings=True))
    label: Mapped[str] = mapped_column(String(300))  # in the event's language
    label_en: Mapped[str] = mapped_column(String(300), default="", server_default="")  # optional English
    required: Mapped[bool] = mapped_column(default=False)
    choices: Mapped[list] = mapped_column(JSON, default=list)  # single / multi: the stored values
    choices_en: Mapped[list] = mapped_column(JSON, default=list)  # their English words, by position (optional)

    survey: Mapped[Survey] = relationship(back_populates="questions")


class SurveyResponse(db.Model):
    """One registration's answers to one survey: submitted once, changed until the survey closes."""

    __tablename__ = "survey_response"
    __table_args__ = (
        UniqueConstraint("survey_id", "registration_id", name="uq_survey_response_once"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Grows with every change: an edit is a conditional UPDATE on the version it was decided from.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    language: Mapped[str] = mapped_column(String(5), default="ja", server_default="ja")


class SurveyAnswer(db.Model):
    __tablename__ = "survey_answer"
    __table_args__ = (
        Index("ix_survey_answer_question", "question_id", "value_number"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id", ondelete="CASCADE"))
    value_number: Mapped[Optional[int]]  # scale5, nps
    value_text: Mapped[Optional[str]] = mapped_column(Text)  # single, multi (one row each), text, come_again
