"""The words for every error code (domain errors, problems of a form, refusals of a bulk action):
the one table. The codes are stable; these are what people read. Parameters are named
(%(max)s, %(detail)s, %(char)s, %(token)s, %(line)s); tests/web/test_error_words.py walks the
source for every code raised and checks each has words here, in Japanese and English.

The API document's table (web/api/errors.py) says when the API answers a code, in English for
developers; what a person reads comes from here."""

from flask_babel import lazy_gettext as _l

from ..domain.access import accounts, sign_in
from ..domain.communication import reminders
from ..domain.timing import rules

WORDS = {
    "control_characters": _l("Please remove invisible or control characters."),
    "too_long": _l("Please enter at most %(max)s characters."),
    "kana_required": _l("Please enter the furigana (in katakana or hiragana): it is needed for a name written in kanji or kana."),
    "not_katakana": _l("Please enter furigana in katakana or hiragana."),
    "invalid_email": _l("Please enter a valid email address."),
    # Names, organizations (domain.people.text.clean_name); %(char)s is the character and its code point
    "emoji": _l("Emoji cannot be used in names and organizations: %(char)s"),
    "invisible_characters": _l("This contains an invisible character (%(char)s). Please remove it."),
    "stacked_marks": _l("Too many accent marks on one character (%(char)s)."),
    "unprintable_character": _l("The character %(char)s cannot be printed on the entry pass and name badge. Please use a more common form of the character."),
    "no_visible_letters": _l("Please enter letters or digits, not only symbols or blank characters."),
    "replacement_character": _l("This contains the character U+FFFD, a sign of text damaged in copying. Please type it again."),
    "email_not_ascii": _l("Please use an email address whose part before the @ has only Latin letters, digits and "
                          "symbols: mail to other addresses cannot be delivered reliably."),
    "invalid_phone": _l("Please enter a phone number using digits, spaces, hyphens or +."),
    "registration_not_open": _l("Registration for this session has not opened yet."),
    "registration_closed": _l("Registration for this session has closed."),
    "session_full": _l("This session is full."),
    "session_started": _l("This session has already started, so the registration can no longer be cancelled online."),
    "event_changed": _l("This event was just updated. Please reload the page and register again."),
    # The sign-up form's one-time key already made a registration with another email or event.
    "signup_key_used": _l("This form has already been sent. Please check what you entered and send it again."),
    "already_cancelled": _l("This registration has already been cancelled."),
    "registration_changed": _l("This registration was changed at the same moment. Please reload the page and try again."),
    "invalid_rule": _l("Enter a time as \"1d@12:00\" (days before at a time), \"2h\" (hours before) or a date and time with its UTC offset."),
    "not_confirmed": _l("Only a confirmed registration can be moved to another session."),
    "nothing_to_confirm": _l("This registration has nothing left to confirm."),
    "resend_limit": _l("The email was sent as often as it can be resent. Check your spam folder, or cancel and sign up again with the right address."),
    # Staff
    "login_failed": _l("Email or password is not correct."),
    "login_blocked": _l("Too many failed sign-ins. Please wait %(minutes)s minutes and try again."),
    "user_exists": _l("A staff account with this email exists already."),
    "password_too_short": _l("The password must have at least %(min)s characters."),
    "not_found": _l("No such registration for this event."),
    "not_checked_in": _l("This person is not checked in, so there is nothing to undo."),
    "already_registered": _l("This email is already registered for this session: search for the name and check them in."),
    "invalid_request": _l("The request is not valid."),
    "invalid_input": _l("Some values were refused; see the fields."),
    "csrf_failed": _l("The page expired. Please reload it and try again."),
    "method_not_allowed": _l("This action is not allowed here."),
    "too_large": _l("What you sent is too large."),
    "unavailable": _l("The service is temporarily unavailable. Please try again in a moment."),
    "cp932_unmappable": _l("Some characters of the data do not exist in Windows-31J (CP932), so no file was made. "
                           "Download the UTF-8 CSV or the Excel file instead."),
    "unauthorized": _l("Sign in, or send a valid API token."),
    "forbidden": _l("Your role on this event does not allow this."),
    # Desk results: what a volunteer reads from a metre away
    "ok": _l("Welcome! Checked in."),
    "already_checked_in": _l("Already checked in"),
    "cancelled": _l("This registration was cancelled."),
    "waitlisted": _l("On the waiting list, not confirmed."),
    "unconfirmed": _l("The email address was never confirmed; the seat is only held."),
    "email_not_confirmed": _l("Please confirm your email address first (open the link in the email we sent you)."),
    "wrong_event": _l("This pass is for another event."),
    "wrong_session": _l("This pass is for another session."),
    "unknown_pass": _l("Unknown or damaged pass."),
    "superseded": _l("This pass was replaced by a newer one (the registration was moved). Ask for the new pass or search the name."),
    "undone": _l("Check-in taken back."),
    "walk_in": _l("Walk-in registered and checked in."),
    "walk_in_duplicate": _l("Someone of this name was already registered as a walk-in. Enter again?"),
    # Offline desks (domain.reception.desk_batches)
    "conflict": _l("Also checked in at another desk while the desks could not see each other: the earlier check-in counts."),
    "walk_in_overflow": _l("Walk-in registered and checked in, but the session had no free seat: the organizer has been told."),
    "clock_unusable": _l("The device's clock is more than a year off. Set the device's date and time, then send again."),
    # Background jobs (admin/job.html)
    "job_failed": _l("The file could not be made. Please try again; if it fails again, tell the administrator."),
    "job_abandoned": _l("The worker making this file stopped several times. Please try again later, or tell the administrator."),
    # Staff changing one registration (domain.backoffice.registration_edits, domain.people.fields)
    "required": _l("This field is required."),
    "answer_required": _l("This question needs an answer."),
    "invalid_choice": _l("Please choose one of the options."),
    "invalid_fields": _l("Please check the entries marked in red."),
    "email_taken": _l("Another registration for this session already uses this email address."),
    "not_waitlisted": _l("This registration is not on the waiting list."),
    "no_free_seat": _l("There is no free seat in this session. Cancel someone, move someone, or raise the capacity first."),
    "no_pass": _l("Only a confirmed registration has a pass."),
    "no_email": _l("This registration has no email address."),
    "session_full_staff": _l("This session is full. Tick \"put on the waiting list\" or \"add even if full\" to add this person."),
    "choose_session": _l("Please choose a session."),
    # The event's team, invitations and API tokens (domain/access/invitations.py, domain/access/accounts.py)
    "not_allowed": _l("Only an owner of this event may change its staff."),
    "already_member": _l("This person is on this event's staff already: change their role in the list instead."),
    "invitation_not_pending": _l("This invitation is no longer pending (it was accepted, withdrawn or has expired)."),
    "invitation_accepted": _l("This invitation has been accepted already."),
    "invitation_revoked": _l("This invitation was withdrawn or replaced by a newer one."),
    "invitation_expired": _l("This invitation has expired."),
    "invitation_unknown": _l("This invitation link is not valid."),
    "account_exists": _l("A staff account for this address exists already: sign in with it, then open the invitation link again to accept."),
    "name_required": _l("Please enter your name."),
    "wrong_account": _l("This invitation is for another email address. Sign out, then sign in with the invited "
                        "address (or open the link while signed out to create its account)."),
    "last_owner": _l("An event needs at least one active owner: make someone else an owner first."),
    "not_a_member": _l("This person is not on this event's staff."),
    "token_name_required": _l("Please say what the token is for."),
    "token_scope": _l("A token limited to an event needs both the event and a role."),
    "token_role_too_high": _l("A token cannot have a role that allows more than your own role on this event."),
    "password_too_long": _l("The password must have at most %(max)s characters."),
    # The building-security list (admin/building_list.html)
    "no_security_contact": _l("Enter the venue's security contact (email) first."),
    "invalid_security_columns": _l("Choose at least one column."),
    # Reminders (admin/reminders.html, domain.communication.reminders)
    "reminder_days": _l("Enter the number of days before the session as a whole number from 0 to %(max_days)s."),
    "reminder_time": _l("Enter the time of day as HH:MM, for example 10:00."),
    "reminder_hours": _l("Enter the number of hours before the start as a whole number from 1 to %(max_hours)s."),
    "reminder_kind": _l("Choose \"days before, at a time of day\" or \"hours before the start\"."),
    "reminder_not_relative": _l("A reminder is set relative to each session (days or hours before), not as a fixed date."),
    "reminder_too_early": _l("A reminder can be at most %(max_days)s days or %(max_hours)s hours before the session."),
    "reminder_exists": _l("This event has this reminder already."),
    "too_many_reminders": _l("An event can have at most %(max)s reminders."),
    "reminder_not_found": _l("This reminder was removed already."),
    # An event's values, sessions and questions (domain.backoffice.event_checks, web/admin/event_forms.py)
    "hold_minutes_range": _l("Enter a whole number of minutes from %(min)s to %(max)s."),
    "unknown_language": _l("Please choose Japanese or English."),
    "unknown_timezone": _l("Please choose a time zone from the list."),
    "invalid_slug": _l("Use only lower-case letters a–z, digits and hyphens (at most 80)."),
    "slug_taken": _l("Another event already uses this web address."),
    "invalid_datetime": _l("Enter a date and time, e.g. 2026-03-05 10:00."),
    "invalid_date": _l("Enter a date, e.g. 2026-03-05."),
    "invalid_time": _l("Enter a time, e.g. 14:00."),
    "date_out_of_range": _l("Enter a date between the years 2000 and 2100."),
    "invalid_deadline": _l("Enter the rule as 1d@12:00 (days before, at a time), 3bd@17:00 (business days before), "
                           "2h (hours before the start), 前日12:00, a date and time such as 2026-03-04 12:00, or leave it empty."),
    # The deadline editor's parts (domain.timing.rules.from_parts)
    "deadline_kind": _l("Please choose when registration closes."),
    "deadline_days": _l("Enter the days before the start as a whole number from 0 to %(max)s."),
    "deadline_business_days": _l("Enter the business days before the start as a whole number from 1 to %(max)s."),
    "deadline_time": _l("Enter the time of day as HH:MM, for example 12:00."),
    "deadline_hours": _l("Enter the hours before the start as a number from 0 to %(max)s, for example 2 or 1.5."),
    "deadline_datetime": _l("Enter the date and time of the deadline, e.g. 2026-03-04 12:00."),
    "not_a_number": _l("Enter a whole number."),
    "capacity_negative": _l("The capacity cannot be negative."),
    "capacity_too_large": _l("The capacity can be at most %(max)s."),
    "doors_after_start": _l("Doors must open at or before the start."),
    "end_before_start": _l("The end must be after the start."),
    "unknown_kind": _l("Please choose a kind of question."),
    "choices_required": _l("Enter the choices, one per line."),
    "too_many_choices": _l("At most %(max)s choices."),
    "duplicate_choice": _l("This choice is listed twice: %(choice)s"),
    # Refusals of a change (the detail is a number or a choice)
    "capacity_below_taken": _l("The capacity cannot be lower than the %(detail)s seats already taken."),
    "session_has_registrations": _l("This session cannot be removed: %(detail)s people have registered for it "
                                    "(cancelled ones included). Change its times instead, or move them first."),
    "event_has_registrations": _l("This is not possible: %(detail)s registrations exist for this event (cancelled ones included)."),
    "question_has_answers": _l("This question has answers, so it cannot be deleted. Hide it instead: the answers stay in the data and the exports."),
    "question_kind_in_use": _l("This question has answers, so its kind cannot change."),
    "question_choice_in_use": _l("This question has answers: the choice “%(detail)s” cannot be removed or renamed (new choices can be added)."),
    "status_change_refused": _l("This status change is not possible now. Reload the page."),
    "no_sessions": _l("Add a session first."),
    "last_session": _l("A published event keeps at least one session."),
    "timezone_in_use": _l("The time zone cannot change once people have registered."),
    # Attendee messages (domain.communication.attendee_messages)
    "unknown_placeholder": _l("Unknown placeholder %(token)s (line %(line)s). Use one of the placeholders listed below."),
    "unbalanced_brace": _l("A brace “%(token)s” on line %(line)s opens or closes nothing. Write placeholders as {name}."),
    "message_not_draft": _l("This message was sent or scheduled already; it can no longer be changed."),
    # … refused at the save, after the edit page had shown a draft (the page's own words)
    "message_edit_lost": _l("Someone sent or scheduled this message while you were editing it, so your changes were not saved."),
    "message_not_cancellable": _l("This message was sent already (or cancelled); it cannot be taken back."),
    "send_at_past": _l("The time to send is in the past. Choose a later time."),
    # Bulk actions on the attendee list (domain.backoffice.bulk_actions)
    "same_session": _l("This registration is in that session already."),
    "too_many_rows": _l("Choose at most %(max)s registrations at once."),
    # Codes that only gather others: their parts are shown where they belong
    "invalid_values": _l("Please check the entries marked in red."),
    "message_problems": _l("Please check the entries marked in red."),
    "bulk_refused": _l("Nothing was changed: some of the chosen registrations cannot be changed this way."),
    # The command line (event files, retention)
    "invalid_event_file": _l("The event file is not valid: %(detail)s"),
    "invalid_retention_days": _l("Enter the number of days to keep personal data as a whole number."),
    # Hybrid sessions and the join link (domain.backoffice.hybrid, domain.registration.join_links)
    "meeting_url_invalid": _l("Enter the meeting URL as a full address beginning with https://."),
    "too_early": _l("The join link does not open the meeting yet (before doors open)."),
    "join_ended": _l("The join link was opened after the session ended."),
    # Certificates of attendance (domain.registration.certificates)
    "certificate_not_attended": _l("A certificate of attendance is only issued to a person who came (checked in)."),
    "certificate_withdrawn": _l("This certificate of attendance was withdrawn: it is not issued, printed or emailed again."),
    "certificate_already_withdrawn": _l("This certificate had already been withdrawn (perhaps at the same moment by someone else). Nothing was changed."),
    # Surveys (domain.insight.surveys)
    "survey_exists": _l("This event already has a survey."),
    "survey_closes_before_opening": _l("The survey must close after it opens."),
    "survey_choices_en_count": _l("Give an English word for every choice, one per line, or none at all."),
    "survey_answer_required": _l("Please answer this question."),
    "survey_invalid_choice": _l("Please choose one of the answers shown."),
    "survey_not_attended": _l("This survey is for the people who attended the event."),
    "survey_not_open": _l("The survey is not open yet."),
    "survey_closed": _l("The survey has closed: answers can no longer be changed."),
    "survey_no_survey": _l("There is no survey for this event."),
    # The post-event loop (domain.communication.followups)
    "followup_rule": _l("Enter a time after the end of the session, such as “end+30m”, “end+2h” or 「終了1時間後」 (at most 30 days)."),
    "materials_url": _l("Enter one web address starting with https:// or http://, or leave it empty."),
    "noshow_text_too_long": _l("Please enter at most %(max)s characters."),
    "followup_part": _l("There is no such part of the post-event mail."),
    "followup_not_confirmed": _l("Only a confirmed registration gets the post-event mail."),
    "followup_attended": _l("This person came: the note for people who did not come does not go to them."),
    "followup_not_attended": _l("This person has not checked in: the survey and the certificate go only to people who came."),
    "followup_unavailable": _l("This event has no survey yet: create it on the Survey tab first."),
    "followup_too_early": _l("This session has not ended yet: the post-event mail goes out by itself at its time."),
}


# Numbers a sentence states, read from where each rule lives (at call time: one place to change).
RULE_PARAMS = {
    "login_blocked": lambda: {"minutes": int(sign_in.LOGIN_WINDOW.total_seconds() // 60)},
    "password_too_short": lambda: {"min": accounts.MIN_PASSWORD_LENGTH},
    "password_too_long": lambda: {"max": accounts.MAX_PASSWORD_LENGTH},
    "reminder_days": lambda: {"max_days": reminders.MAX_DAYS},
    "reminder_hours": lambda: {"max_hours": reminders.MAX_HOURS},
    "reminder_too_early": lambda: {"max_days": reminders.MAX_DAYS, "max_hours": reminders.MAX_HOURS},
    "too_many_reminders": lambda: {"max": reminders.MAX_RULES},
    "deadline_days": lambda: {"max": rules.MAX_DAYS},
    "deadline_business_days": lambda: {"max": rules.MAX_BUSINESS_DAYS},
    "deadline_hours": lambda: {"max": rules.MAX_HOURS},
}


class _Params(dict):
    def __missing__(self, key: str) -> str:  # words used without their parameter never fail
        return "…"


def words(code: str, **params) -> str:
    """The words for ``code`` in the current language, its named parameters filled in."""
    found = WORDS.get(code)
    if found is None:
        return code
    text = str(found)
    if code in RULE_PARAMS:
        params = {**params, **RULE_PARAMS[code]()}
    return text % _Params(params) if "%(" in text else text


def message(code: str, detail: str = "", **params) -> str:
    """The words for a DomainError's code; its ``detail`` fills %(detail)s, and %(max)s when it is a number."""
    return words(code, detail=detail, **({"max": detail} if detail.isdigit() else {}), **params)
