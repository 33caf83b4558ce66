"""An iCalendar (RFC 5545) file for one registration's session, made with ``icalendar``.

- UID ``registration-<id>@<host of BASE_URL>``: stable for the registration, so a later file
  (a moved session, a cancellation) updates the same calendar entry; it is not a secret,
  since calendar services sync it. The file carries no management link either: URL and
  DESCRIPTION point to the public event page.
- DTSTAMP is when the file was made (``now``); SEQUENCE is the session's sequence, which grows
  each time its times change.
- METHOD: PUBLISH for the download, REQUEST in the confirmation email (with ORGANIZER and
  ATTENDEE, as RFC 5546 wants), CANCEL with STATUS:CANCELLED for a cancelled registration:
  a cancelled registration never yields an active entry, whatever method is asked for.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

from flask import current_app
from flask_babel import force_locale, gettext
from icalendar import Calendar, Event, vCalAddress

METHODS = ("PUBLISH", "REQUEST", "CANCEL")
PRODID = "-//eventreg//eventreg//EN"


def uid(ctx: dict) -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "eventreg.localhost"
    return f"registration-{ctx['registration_id']}@{host}"


def _address(email: str, name: str, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    for key, value in params.items():
        address.params[key.replace("_", "-").upper()] = value
    return address


def entry_text(ctx: dict) -> dict:
    """What a calendar entry says, in one place for the .ics file and the Google Calendar link:
    times in UTC, the title (with the session's), the place, and the description."""
    event, session = ctx["event"], ctx["session"]
    online = bool(session.get("online"))
    # An online session's place is the registrant's own join link (never the meeting's address),
    # else the word "Online": never the venue, and no reception-desk notes in the description.
    join = ctx.get("links", {}).get("join", "") if online else ""
    if online:
        with force_locale(ctx.get("language") or event["language"]):
            place = join or gettext("Online")
    else:
        place = " ".join(part for part in (event["venue_name"], event["venue_address"]) if part)
    return {
        "starts_at": session["starts_at"].astimezone(timezone.utc),
        "ends_at": session["ends_at"].astimezone(timezone.utc),
        "summary": event["title"] + (f" {session['title']}" if session["title"] else ""),
        "location": place,
        "url": join or event["url"],
        "description": "\n".join(part for part in ("" if online else event["access_notes"], event["url"]) if part),
    }


GOOGLE = "https://calendar.google.com/calendar/render"
_UTC_STAMP = "%Y%m%dT%H%M%SZ"


def google_calendar_url(ctx: dict) -> str:
    """A link that opens Google Calendar's "new entry" page filled in with the .ics file's entry.
    Its details also carry the registration page (the pass): the person's own calendar, as their
    mailbox holds the same link; the downloadable file keeps to the public event page."""
    what = entry_text(ctx)
    details = "\n".join(part for part in (what["description"], ctx["links"]["registration"]) if part)
    query = {
        "action": "TEMPLATE", "text": what["summary"],
        "dates": f"{what['starts_at'].strftime(_UTC_STAMP)}/{what['ends_at'].strftime(_UTC_STAMP)}",
        "details": details, "location": what["location"],
    }
    return f"{GOOGLE}?{urlencode({k: v for k, v in query.items() if v})}"


def session_event(ctx: dict, *, now: datetime, method: str = "PUBLISH", organizer_email: str = "") -> bytes:
    """The calendar file of the registration in ``ctx`` (domain.registration.passes.pass_context).

    ``organizer_email`` is used when the event has no contact email (ORGANIZER is required by
    REQUEST and CANCEL).
    """
    if method not in METHODS:
        raise ValueError(f"unknown iCalendar method {method!r}")
    cancelled = ctx["status"] == "cancelled" or method == "CANCEL"
    if cancelled:
        method = "CANCEL"
    event, session = ctx["event"], ctx["session"]

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)

    entry = Event()
    entry.add("uid", uid(ctx))
    entry.add("dtstamp", now.astimezone(timezone.utc))
    entry.add("sequence", int(session.get("sequence") or 0))
    what = entry_text(ctx)
    entry.add("dtstart", what["starts_at"])
    entry.add("dtend", what["ends_at"])
    entry.add("summary", what["summary"])
    if what["location"]:
        entry.add("location", what["location"])
    if what["description"]:
        entry.add("description", what["description"])
    entry.add("url", what["url"])
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = event["contact_email"] or organizer_email
    if organizer:
        entry.add("organizer", _address(organizer, event["contact_name"] or event["organizer"]))
    if method in ("REQUEST", "CANCEL") and ctx["attendee"]["email"]:
        entry.add("attendee", _address(
            ctx["attendee"]["email"], ctx["attendee"]["full_name"], role="REQ-PARTICIPANT", rsvp="FALSE",
            **({} if cancelled else {"partstat": "ACCEPTED"}),
        ))
    calendar.add_component(entry)
    return calendar.to_ical()

