"""The back office (/admin): organizers' pages, one module per part.

Each view declares the capability it needs with web.access.event_access; see
domain/permissions.py for which role has which.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Imported for their side effect, after bp exists: each module adds its routes to bp (Flask's
# usual pattern for a blueprint split over modules), so the names are unused (F401) and the
# imports cannot stand at the top (E402).
from . import event_day  # noqa: E402,F401
from . import attendees  # noqa: E402,F401
from . import registrations  # noqa: E402,F401
from . import events  # noqa: E402,F401
from . import team  # noqa: E402,F401
from . import exports  # noqa: E402,F401
from . import security_list  # noqa: E402,F401
from . import privacy  # noqa: E402,F401
from . import reminders  # noqa: E402,F401
from . import messages  # noqa: E402,F401
from . import stats  # noqa: E402,F401
