"""Who is expected at the venue: the one rule the on-site documents share.

The building's visitor list, the reception list, the badge sheet, the desk's roster and its
search are about people who come in person: registrations of on-site sessions only (an online
twin's people join through their link, domain.registration.join_links). The same rule says who
gets an entry pass (``entry_pass``): the pass page's QR, pass.pdf in a mail and the reception
desk's instructions are for on-site registrants; an online one gets their join link instead.
A leaf module (models only), so timing, reception, registration and backoffice can all import it.
"""

from __future__ import annotations

from sqlalchemy import select

from eventreg.models import AttendanceMode, EventSession, Registration

_ON_SITE_SESSIONS = select(EventSession.id).where(EventSession.attendance_mode == AttendanceMode.onsite)


def on_site(session: EventSession) -> bool:
    return session.attendance_mode != AttendanceMode.online


def entry_pass(registration: Registration) -> bool:
    """Whether the registration gets an entry pass (QR code, pass.pdf, "show it at the reception
    desk", the venue's address): on site only. Whether it can show one now (confirmed) is
    domain.registration.passes.usable; mail, the outbox, the attendee's page and the pass PDF
    route all ask this one function."""
    return on_site(registration.session)


def at_the_venue():
    """A WHERE condition on Registration: the person's session is on site."""
    return Registration.session_id.in_(_ON_SITE_SESSIONS.scalar_subquery())
