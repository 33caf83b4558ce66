"""An iCalendar (RFC 5545) file for one session."""

from __future__ import annotations

from datetime import datetime, timezone


def _escape(value: str) -> str:
    return (value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 3.1), never inside a UTF-8 character."""
    out, current = [], b""
    for ch in line:
        encoded = ch.encode()
        if len(current) + len(encoded) > 75:
            out.append(current.decode())
            current = b" "
        current += encoded
    out.append(current.decode())
    return "\r\n".join(out)


def session_event(ctx: dict, *, stamp: datetime | None = None) -> bytes:
    event, session = ctx["event"], ctx["session"]
    location = " ".join(part for part in (event["venue_name"], event["venue_address"]) if part)
    title = event["title"] + (f" {session['title']}" if session["title"] else "")
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//eventreg//EN", "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:registration-{ctx['registration_id']}@eventreg",  # not a secret
        f"DTSTAMP:{_utc(stamp or session['starts_at'])}",
        f"DTSTART:{_utc(session['starts_at'])}",
        f"DTEND:{_utc(session['ends_at'])}",
        f"SUMMARY:{_escape(title)}",
        f"LOCATION:{_escape(location)}",
        f"DESCRIPTION:{_escape(event['access_notes'] + chr(10) + ctx['links']['registration'])}",
        f"URL:{ctx['links']['registration']}",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
