"""Who is expected at the venue: the one rule the on-site documents share.

The building's visitor list, the reception list, the badge sheet, the desk's roster and its
search are about people who come in person: registrations of on-site sessions only (an online
twin's people join through their link, domain.registration.join_links). A leaf module (models
only), so timing, reception and backoffice can all import it.
"""

from __future__ import annotations

from sqlalchemy import select

from eventreg.models import AttendanceMode, EventSession, Registration

_ON_SITE_SESSIONS = select(EventSession.id).where(EventSession.attendance_mode == AttendanceMode.onsite)


def on_site(session: EventSession) -> bool:
    return session.attendance_mode != AttendanceMode.online


def at_the_venue():
    """A WHERE condition on Registration: the person's session is on site."""
    return Registration.session_id.in_(_ON_SITE_SESSIONS.scalar_subquery())
