"""Who may do what on an event: one table from role to capabilities.

Every back-office page, desk page and API endpoint names the one capability it needs
(web/access.py); the authorization matrix test walks every URL of the app against this table.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from eventreg.models import EventRole, Role

# The kind of account that may create events: a new one or a copy of one (its maker becomes the
# owner of the new event, so an event role, even owner, is not enough).
CREATES_EVENTS = Role.organizer


class Capability(str, enum.Enum):
    view = "view"  # back-office pages: the event, its attendee list, a registration, counts
    desk = "desk"  # the reception desk: scans, search, walk-ins, badges at the desk
    edit_event = "edit_event"  # the event, its sessions, questions, status, security-list settings
    manage_registrations = "manage_registrations"  # edit, add, cancel, move, promote, resend, bulk
    export_personal = "export_personal"  # files with personal data: exports, lists, badge sheets
    manage_staff = "manage_staff"  # invitations and roles
    delete_event = "delete_event"


C = Capability
GRANTS: dict[EventRole, frozenset[Capability]] = {
    EventRole.owner: frozenset(Capability),
    EventRole.editor: frozenset({C.view, C.desk, C.edit_event, C.manage_registrations, C.export_personal}),
    EventRole.reception: frozenset({C.desk}),  # the desk only, as before roles per event
    EventRole.viewer: frozenset({C.view}),  # reads; no personal-data files, no changes
}


def capabilities(role: EventRole | None) -> frozenset[Capability]:
    return GRANTS.get(role, frozenset()) if role is not None else frozenset()


def allows(role: EventRole | None, capability: Capability) -> bool:
    return capability in capabilities(role)


def limited(user_role: EventRole | None, token_roles: Iterable[EventRole | None]) -> frozenset[Capability]:
    """What a token may do: never more than its user's own role on the event allows."""
    granted = capabilities(user_role)
    for role in token_roles:
        if role is not None:
            granted &= capabilities(role)
    return granted
