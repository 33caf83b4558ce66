"""Words for domain error codes. The codes are stable; these are what people read."""

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "control_characters": _l("Please remove invisible or control characters."),
    "too_long": _l("This is too long."),
    "too_long_max": _l("Please enter at most %(max)s characters."),
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
    "email_not_ascii": _l("Please use an email address whose part before the @ has only Latin letters, digits and symbols: mail to other addresses cannot be delivered reliably."),
    "invalid_phone": _l("Please enter a phone number using digits, spaces, hyphens or +."),
    "registration_not_open": _l("Registration for this session has not opened yet."),
    "registration_closed": _l("Registration for this session has closed."),
    "session_full": _l("This session is full."),
    "session_started": _l("This session has already started, so the registration can no longer be cancelled online."),
    "event_changed": _l("This event was just updated. Please reload the page and register again."),
    "already_cancelled": _l("This registration has already been cancelled."),
    "invalid_rule": _l("Enter a time as \"1d@12:00\" (days before at a time), \"2h\" (hours before) or a date and time with its UTC offset."),
    "not_confirmed": _l("Only a confirmed registration can be moved to another session."),
    "nothing_to_confirm": _l("This registration has nothing left to confirm."),
    "resend_limit": _l("The email was sent as often as it can be resent. Check your spam folder, or cancel and sign up again with the right address."),
    # Staff
    "login_failed": _l("Email or password is not correct."),
    "login_blocked": _l("Too many failed sign-ins. Please wait 15 minutes and try again."),
    "user_exists": _l("A staff account with this email exists already."),
    "password_too_short": _l("The password must have at least 10 characters."),
    "not_found": _l("No such registration for this event."),
    "not_checked_in": _l("This person is not checked in, so there is nothing to undo."),
    "already_registered": _l("This email is already registered for this session: search for the name and check them in."),
    "invalid_request": _l("The request is not valid."),
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
    "wrong_account": _l("This invitation is for another email address. Sign out, then sign in with the invited address (or open the link while signed out to create its account)."),
    "last_owner": _l("An event needs at least one active owner: make someone else an owner first."),
    "not_a_member": _l("This person is not on this event's staff."),
    "token_name_required": _l("Please say what the token is for."),
    "token_scope": _l("A token limited to an event needs both the event and a role."),
    "token_role_too_high": _l("A token cannot have a role that allows more than your own role on this event."),
    "password_too_long": _l("The password must have at most 200 characters."),
    # The building-security list (admin/building_list.html)
    "no_security_contact": _l("Enter the venue's security contact (email) first."),
    "invalid_security_columns": _l("Choose at least one column."),
    # Reminders (admin/reminders.html, domain.communication.reminders)
    "reminder_days": _l("Enter the number of days before the session as a whole number from 0 to 60."),
    "reminder_time": _l("Enter the time of day as HH:MM, for example 10:00."),
    "reminder_hours": _l("Enter the number of hours before the start as a whole number from 1 to 72."),
    "reminder_kind": _l("Choose \"days before, at a time of day\" or \"hours before the start\"."),
    "reminder_not_relative": _l("A reminder is set relative to each session (days or hours before), not as a fixed date."),
    "reminder_too_early": _l("A reminder can be at most 60 days or 72 hours before the session."),
    "reminder_exists": _l("This event has this reminder already."),
    "too_many_reminders": _l("An event can have at most 5 reminders."),
    "reminder_not_found": _l("This reminder was removed already."),
}


def message(code: str, detail: str = "") -> str:
    """The words for ``code``; a too_long error with its limit in ``detail`` says the limit."""
    if code == "too_long" and detail.isdigit():
        return str(MESSAGES["too_long_max"]) % {"max": detail}
    return str(MESSAGES.get(code, code))
