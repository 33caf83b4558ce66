"""An event's team and its API tokens (owners only: Capability.manage_staff).

GET  /admin/events/<event_id>/team                                        members, pending invitations, invite form
POST /admin/events/<event_id>/team/invite                                 {email, role}
POST /admin/events/<event_id>/team/invitations/<invitation_id>/resend     a new link; the old one stops working
POST /admin/events/<event_id>/team/invitations/<invitation_id>/revoke
POST /admin/events/<event_id>/team/members/<user_id>/role                 {role}
POST /admin/events/<event_id>/team/members/<user_id>/remove
GET  /admin/events/<event_id>/tokens                                      API tokens limited to this event
POST /admin/events/<event_id>/tokens                                      {name, role}: the token, shown once
POST /admin/events/<event_id>/tokens/<token_id>/revoke

The invitation link is built here from BASE_URL (the domain never spells a URL); the person
accepts it at /invite/<secret> (web/auth.py).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from eventreg.domain.access import api_tokens

from ... import clock
from ...domain.access import accounts, invitations
from ...domain.access.permissions import Capability
from ...domain.errors import DomainError
from ...domain.people import text
from ...extensions import db
from ...models import ApiToken, Event, EventRole, Invitation
from ..access import event_access
from ..forms import Normalized, PageForm, error_message
from . import bp

ROLE_NAMES = {
    EventRole.owner: _l("Owner"),
    EventRole.editor: _l("Editor"),
    EventRole.reception: _l("Reception"),
    EventRole.viewer: _l("Viewer"),
}
ROLE_HINTS = {
    EventRole.owner: _l("everything, including the staff, publishing and deleting"),
    EventRole.editor: _l("the event, its registrations, exports and lists"),
    EventRole.reception: _l("the reception desk only"),
    EventRole.viewer: _l("reads the back office; no personal-data exports, no changes"),
}
TOKEN_ROLES = (EventRole.reception, EventRole.viewer, EventRole.editor)


class _RoleChoices:
    """The role field's choices, in the request's language (built per form, not at import)."""

    roles: tuple = tuple(EventRole)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(r.value, f"{ROLE_NAMES[r]}: {ROLE_HINTS[r]}") for r in self.roles]


class InviteForm(_RoleChoices, PageForm):
    email = StringField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    role = SelectField(_l("Role"), default=EventRole.reception.value, validators=[InputRequired()])


class RoleForm(_RoleChoices, PageForm):
    role = SelectField(_l("Role"), validators=[InputRequired()])


class TokenForm(_RoleChoices, PageForm):
    roles = TOKEN_ROLES
    name = StringField(_l("What the token is for"), description=_l("e.g. \"iPad at desk 2\""),
                       validators=[Normalized(lambda v: text.clean(v, max_length=100), True)])
    role = SelectField(_l("Role"), default=EventRole.reception.value, validators=[InputRequired()])


def invitation_link(secret: str) -> str:
    """The acceptance URL, always from BASE_URL (never from the Host header of this request)."""
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for("auth.invite", token=secret, _external=True)


def _team_page(event: Event, form: InviteForm | None = None, status: int = 200):
    now = clock.utcnow()
    return render_template(
        "admin/team.html", event=event, form=form or InviteForm(), roles=list(EventRole),
        members=invitations.members(event), pending=invitations.pending(event, now=now),
        role_names=ROLE_NAMES, now=now,
    ), status


def _back(event: Event):
    """To the team page, or to the event list when the change took the user's own access."""
    if accounts.can(current_user, event.id, Capability.manage_staff):
        return redirect(url_for("admin.team", event_id=event.id), 303)
    return redirect(url_for("auth.home"), 303)


def _refused(exc: DomainError, event: Event):
    db.session.rollback()
    if exc.code == "not_a_member":  # a user id that is not on this event's team: as a wrong URL
        abort(404)
    flash(error_message(exc), "error")
    return _back(event)


def _invitation_of(event: Event, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.event_id != event.id:
        abort(404)
    return invitation


@bp.get("/events/<int:event_id>/team")
@event_access(Capability.manage_staff)
def team(event: Event):
    return _team_page(event)


@bp.post("/events/<int:event_id>/team/invite")
@event_access(Capability.manage_staff)
def invite(event: Event):
    form = InviteForm()
    if not form.validate():
        return _team_page(event, form, 400)
    try:
        invitations.invite(event, form.email.data, EventRole(form.role.data), actor=current_user,
                           now=clock.utcnow(), link=invitation_link)
    except DomainError as exc:
        db.session.rollback()
        form.email.errors.append(error_message(exc))
        return _team_page(event, form, 400)
    db.session.commit()
    flash(_("Invitation sent to %(email)s.", email=form.email.data.strip()))
    return redirect(url_for("admin.team", event_id=event.id), 303)


@bp.post("/events/<int:event_id>/team/invitations/<int:invitation_id>/resend")
@event_access(Capability.manage_staff)
def resend_invitation(event: Event, invitation_id: int):
    invitation = _invitation_of(event, invitation_id)
    email = invitation.email
    try:
        invitations.resend(invitation, actor=current_user, now=clock.utcnow(), link=invitation_link)
    except DomainError as exc:
        return _refused(exc, event)
    db.session.commit()
    flash(_("A new invitation link was sent to %(email)s; the previous link no longer works.", email=email))
    return _back(event)


@bp.post("/events/<int:event_id>/team/invitations/<int:invitation_id>/revoke")
@event_access(Capability.manage_staff)
def revoke_invitation(event: Event, invitation_id: int):
    invitation = _invitation_of(event, invitation_id)
    try:
        invitations.revoke(invitation, actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        return _refused(exc, event)
    db.session.commit()
    flash(_("The invitation to %(email)s was withdrawn; its link no longer works.", email=invitation.email))
    return _back(event)


@bp.post("/events/<int:event_id>/team/members/<int:user_id>/role")
@event_access(Capability.manage_staff)
def change_role(event: Event, user_id: int):
    form = RoleForm()
    if not form.validate():
        flash(_("Please choose a role."), "error")
        return _back(event)
    try:
        member = invitations.change_role(event, user_id, EventRole(form.role.data), actor=current_user,
                                         now=clock.utcnow())
    except DomainError as exc:
        return _refused(exc, event)
    name, role = member.user.name, ROLE_NAMES[member.role]
    db.session.commit()
    db.session.expire(current_user, ["memberships"])
    flash(_("%(name)s is now %(role)s.", name=name, role=role))
    return _back(event)


@bp.post("/events/<int:event_id>/team/members/<int:user_id>/remove")
@event_access(Capability.manage_staff)
def remove_member(event: Event, user_id: int):
    try:
        invitations.remove(event, user_id, actor=current_user, now=clock.utcnow())
    except DomainError as exc:
        return _refused(exc, event)
    db.session.commit()
    db.session.expire(current_user, ["memberships"])
    flash(_("Removed from this event's staff."))
    return _back(event)


def _tokens_page(event: Event, form: TokenForm | None = None, created: str | None = None, status: int = 200):
    return render_template("admin/tokens.html", event=event, form=form or TokenForm(), created=created,
                           tokens=api_tokens.event_api_tokens(event.id), role_names=ROLE_NAMES), status


@bp.get("/events/<int:event_id>/tokens")
@event_access(Capability.manage_staff)
def tokens(event: Event):
    return _tokens_page(event)


@bp.post("/events/<int:event_id>/tokens")
@event_access(Capability.manage_staff)
def create_token(event: Event):
    form = TokenForm()
    if not form.validate():
        return _tokens_page(event, form, status=400)
    try:
        secret = api_tokens.create_api_token(current_user, form.name.data, now=clock.utcnow(), event=event,
                                        role=EventRole(form.role.data))
    except DomainError as exc:
        db.session.rollback()
        form.role.errors.append(error_message(exc))
        return _tokens_page(event, form, status=400)
    db.session.commit()
    # Shown on this response only (no redirect: the secret must not wait in a cookie or a flash).
    return _tokens_page(event, TokenForm(formdata=None), created=secret)


@bp.post("/events/<int:event_id>/tokens/<int:token_id>/revoke")
@event_access(Capability.manage_staff)
def revoke_token(event: Event, token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.event_id != event.id:
        abort(404)
    api_tokens.revoke_api_token(row, actor=current_user, now=clock.utcnow())
    db.session.commit()
    flash(_("The token “%(name)s” was revoked; it stops working at its next request.", name=row.name))
    return redirect(url_for("admin.tokens", event_id=event.id), 303)

