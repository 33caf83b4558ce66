"""The registration form. Field checks call domain.people.text so the web and the CLI agree."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import BooleanField, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..adapters import fonts
from ..domain.errors import DomainError
from ..domain.people import fields, names, text
from ..models import Event, QuestionKind
from .error_words import message
from .field_words import SECTORS, field_title

SIGNUP_KEY = r"^[A-Za-z0-9_-]{16,64}$"  # url-safe, at most the column's 64 characters


class Normalized:
    """Replaces the field's data with its normalised form, or fails with a localized message."""

    def __init__(self, normalize, required: bool = False):
        self.normalize = normalize
        self.required = required
        self.field_flags = {"required": True} if required else {}

    def __call__(self, form, field):
        try:
            field.data = self.normalize(field.data or "")
        except DomainError as exc:
            raise ValidationError(error_message(exc)) from None
        if self.required and not field.data:
            raise ValidationError(_l("This field is required."))


def error_message(exc: DomainError) -> str:
    """The localized words for ``exc``; the character-naming codes of domain.people.text.clean_name get
    the character and its code point, e.g. 「𣒺 (U+234BA)」."""
    detail = exc.detail or ""
    shown = " ".join(f"U+{ord(ch):04X}" for ch in detail)
    if exc.code in ("emoji", "unprintable_character"):  # invisible or stacked: code points only
        shown = f"{detail} ({shown})"
    return message(exc.code, detail, char=shown)


def cleaned(max_length: int, multiline: bool = False):
    return lambda value: text.clean(value, max_length=max_length, multiline=multiline)


def checked(name: str):
    """A person field's check from domain.people.fields (the staff pages use the same). Names,
    organizations and departments get the PDF fonts (adapters.fonts), so whatever is accepted
    prints on the pass and the badge."""
    return fields.normalizer(name, fonts.covers)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class KanaRule:
    """Furigana required for a name in Japanese script, optional for one in Latin letters
    (domain.people.fields.check_kana), checked once both names passed their own checks."""

    def validate_family_kana(self, field):
        self._kana_rule(field)

    def validate_given_kana(self, field):
        self._kana_rule(field)

    def _kana_rule(self, field):
        if self.family_name.errors or self.given_name.errors or field.errors or field.data:
            return
        if names.needs_kana(self.family_name.data, self.given_name.data):
            raise ValidationError(message("kana_required"))


class PageForm(FlaskForm):
    """A form posted from our own pages. CSRFProtect checks every POST before the view runs, so the
    form does not sign and check a second token of its own; templates put ``csrf_token()`` in."""

    class Meta:
        csrf = False


def _consent_field() -> BooleanField:
    return BooleanField(
        _l("I agree to the handling of my personal data described in the privacy notice."),
        validators=[InputRequired(_l("Please agree to the privacy notice to register."))],
    )


class RegistrationForm(KanaRule, PageForm):
    session_id = RadioField(field_title("session"), coerce=int, validators=[InputRequired(_l("Please choose a session."))])
    family_name = StringField(field_title("family_name"), validators=[Normalized(checked("family_name"), True)])
    given_name = StringField(field_title("given_name"), validators=[Normalized(checked("given_name"), True)])
    family_kana = StringField(field_title("family_kana"), validators=[Normalized(checked("family_kana"))])
    given_kana = StringField(field_title("given_kana"), validators=[Normalized(checked("given_kana"))])
    email = StringField(field_title("email"), validators=[Normalized(checked("email"), True)])
    email_confirm = StringField(_l("Email (again)"), validators=[Normalized(cleaned(fields.EMAIL_MAX), True)])
    organization = StringField(field_title("organization"), validators=[Normalized(checked("organization"))])
    department = StringField(field_title("department"), validators=[Normalized(checked("department"))])
    sector = RadioField(field_title("sector"), choices=SECTORS, validators=[InputRequired(_l("Please choose a sector."))])
    phone = StringField(field_title("phone"), validators=[Normalized(checked("phone"))])
    consent = _consent_field()
    # The page's one-time key (domain.registration.signup.new_signup_key; the template writes a new
    # one on every page shown): the same POST sent twice makes one registration. Optional: a page
    # cached from before the key existed still works.
    signup_key = HiddenField(_l("Form"), validators=[
        Optional(), Regexp(SIGNUP_KEY, message=_l("This form is damaged. Please reload the page and register again."))])

    def validate_email_confirm(self, field):
        if self.email.errors or not field.data or field.data == self.email.data:
            return  # typed as stored: the same address, no second normalisation
        try:
            same = text.normalize_email(field.data) == self.email.data
        except DomainError:
            same = False
        if not same:
            raise ValidationError(_l("The two email addresses do not match."))

    def answers(self, event: Event) -> dict:
        return {str(q.id): self[f"q_{q.id}"].data for q in event.questions if not q.hidden}


class QuestionSpec(NamedTuple):
    id: int
    kind: QuestionKind
    label: str
    help: str
    choices: tuple
    required: bool


def _question_field(question: QuestionSpec):
    validators = [InputRequired(_l("This question needs an answer."))] if question.required else [Optional()]
    choices = [(c, c) for c in question.choices]
    if question.kind == QuestionKind.text:
        return TextAreaField(question.label, description=question.help,
                             validators=[Normalized(cleaned(fields.ANSWER_MAX, multiline=True), question.required)])
    if question.kind == QuestionKind.single:
        return RadioField(question.label, description=question.help, choices=choices, validators=validators)
    if question.kind == QuestionKind.multiple:
        return MultiCheckboxField(question.label, description=question.help, choices=choices, validators=validators)
    return BooleanField(question.label, description=question.help, validators=validators)


@lru_cache(maxsize=256)
def _form_class(questions: tuple) -> type[RegistrationForm]:
    """One form class per set of question definitions, built once per process."""
    fields_ = {f"q_{q.id}": _question_field(q) for q in questions}
    # Made after the questions: WTForms orders fields as they were made, and the error summary
    # lists them in that order, so the consent comes after the questions, as on the page.
    fields_["consent"] = _consent_field()
    return type("EventRegistrationForm", (RegistrationForm,), fields_)


def session_label(s, tz: str) -> str:
    """A session as a choice: its title, date and seat state 「満席（キャンセル待ち）」
    「残りわずか（残り3席）」「受付中」 (capacity.Availability.nearly_full decides "nearly")."""
    from .filters import when  # filters imports messages, like this module
    from .status_words import status_word

    if s.full:
        state = _("Full (waiting list)") if s.waitlist_enabled else _("Full")
    elif s.nearly_full:
        state = _("Few seats left (%(n)s left)", n=s.seats_left)
    elif getattr(s, "shows_mode", False):  # 会場 / オンライン side by side: the seats of each
        state = _("%(n)s seats left", n=s.seats_left)
    else:
        state = _("Open for registration")
    mode = status_word(s.attendance_mode) if getattr(s, "shows_mode", False) else ""
    return " · ".join(part for part in (s.title, when(s, tz), mode, str(state)) if part)


class SessionChoice:
    """A session's label (``session_label``), worked out only when a page shows it: the sign-up
    that succeeds shows none, and its dates would cost a third of the form's making."""

    __slots__ = ("session", "tz")

    def __init__(self, session, tz: str):
        self.session, self.tz = session, tz

    def __str__(self) -> str:
        return session_label(self.session, self.tz)

    def __html__(self) -> str:
        return escape(str(self))


def registration_form(event: Event, sessions_open: list, formdata=None) -> RegistrationForm:
    """The form for one event: its own questions appended, its open sessions as choices."""
    # Frozen copies as the cache key: an edited question makes a new class.
    questions = tuple(
        QuestionSpec(q.id, q.kind, q.label, q.help, tuple(q.choices), q.required)
        for q in event.questions if not q.hidden  # a hidden question is no longer asked
    )
    form = _form_class(questions)(formdata=formdata)
    form.session_id.choices = [(s.id, SessionChoice(s, event.timezone)) for s in sessions_open]
    if len(sessions_open) == 1 and form.session_id.data is None:
        form.session_id.data = sessions_open[0].id
    return form


class WalkInForm(KanaRule, PageForm):
    """The desk's short form for people who arrive without registering (sent as JSON to the API,
    which checks the CSRF header or a bearer token itself)."""

    session_id = RadioField(field_title("session"), coerce=int, validators=[InputRequired(_l("Please choose a session."))])
    family_name = StringField(field_title("family_name"), validators=[Normalized(checked("family_name"), True)])
    given_name = StringField(field_title("given_name"), validators=[Normalized(checked("given_name"), True)])
    family_kana = StringField(field_title("family_kana"), validators=[Normalized(checked("family_kana"))])
    given_kana = StringField(field_title("given_kana"), validators=[Normalized(checked("given_kana"))])
    organization = StringField(field_title("organization"), validators=[Normalized(checked("organization"))])
    sector = RadioField(field_title("sector"), choices=SECTORS, validators=[InputRequired(_l("Please choose a sector."))])
    email = StringField(_l("Email (optional)"), validators=[
        Normalized(lambda value: text.normalize_email(value) if (value or "").strip() else "")])
