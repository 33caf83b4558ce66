"""The back office (/admin): organizers' pages, one module per part.

Each view declares the capability it needs with web.access.event_access; see
domain/access/permissions.py for which role has which.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Imported for their side effect, after bp exists: each module adds its routes to bp (Flask's
# usual pattern for a blueprint split over modules), so the names are unused (F401) and the
# imports cannot stand at the top (E402).
from . import (  # noqa: E402
    attendee_import,  # noqa: F401
    attendees,  # noqa: F401
    building_list,  # noqa: F401
    certificates,  # noqa: F401
    deadline_preview,  # noqa: F401
    event_day,  # noqa: F401
    events,  # noqa: F401
    exports,  # noqa: F401
    followups,  # noqa: F401
    messages,  # noqa: F401
    privacy,  # noqa: F401
    registrations,  # noqa: F401
    reminders,  # noqa: F401
    stats,  # noqa: F401
    surveys,  # noqa: F401
    team,  # noqa: F401
)
