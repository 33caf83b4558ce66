"""domain.access.invitations and the token parts of domain.access.accounts, called directly with ``now=``."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from eventreg.domain.access import accounts, api_tokens, invitations, permissions
from eventreg.domain.errors import DomainError
from eventreg.extensions import db
from eventreg.models import AuditEntry, EventRole, Invitation, MailKind, OutboxMessage, Role, StaffUser
from eventreg.sqlite import writing

from .. import factories

NOW = datetime(2031, 5, 1, 3, 0, tzinfo=timezone.utc)
PASSWORD = "a-long-enough-password"


@pytest.fixture
def event(make_event):
    return make_event()


@pytest.fixture
def owner(event):
    return factories.make_staff("owner", events=[event], name="主催 花子")


def invite(event, email, role=EventRole.editor, *, actor, now=NOW):
    secrets = []
    invitation = invitations.invite(event, email, role, actor=actor, now=now,
                                    link=lambda raw: secrets.append(raw) or f"https://example.org/invite/{raw}")
    db.session.commit()
    return invitation, secrets[0]


def test_an_invitation_keeps_only_the_hash_and_queues_the_link(event, owner):
    invitation, secret = invite(event, " Someone@Example.ORG ", actor=owner)
    assert len(secret) >= 43  # 32 random bytes
    assert invitation.email == "someone@example.org"
    assert invitation.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert invitation.expires_at == NOW + timedelta(days=7) and invitation.invited_by == owner.id
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    assert (mail.kind, mail.to_address, mail.registration_id) == (MailKind.invitation, "someone@example.org", None)
    assert mail.context["accept_url"] == f"https://example.org/invite/{secret}"
    assert mail.context["role"] == "editor" and mail.context["inviter_name"] == "主催 花子"
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert entry.action == "staff_invited" and entry.actor_id == owner.id
    assert entry.changes == {"email": [None, "someone@example.org"], "role": [None, "editor"]}


@pytest.mark.parametrize("moment, state", [
    (NOW + timedelta(days=7) - timedelta(seconds=1), invitations.PENDING),
    (NOW + timedelta(days=7), invitations.EXPIRED),
])
def test_a_link_works_for_seven_days(event, owner, moment, state):
    _, secret = invite(event, "a@example.org", actor=owner)
    assert invitations.lookup(secret, now=moment).state == state


def test_only_an_owner_invites_and_not_someone_already_on_the_staff(event, owner):
    editor = factories.make_staff("editor", events=[event])
    with pytest.raises(DomainError) as refused:
        invite(event, "x@example.org", actor=editor)
    assert refused.value.code == "not_allowed"
    with pytest.raises(DomainError) as member:
        invite(event, editor.email.upper(), actor=owner)
    assert member.value.code == "already_member"
    for bad in ("not an email", "山田@example.org"):
        with pytest.raises(DomainError):
            invite(event, bad, actor=owner)


def test_inviting_again_replaces_the_pending_link(event, owner):
    _, first = invite(event, "a@example.org", actor=owner)
    _, second = invite(event, "a@example.org", EventRole.viewer, actor=owner)
    assert invitations.lookup(first, now=NOW).state == invitations.REVOKED
    found = invitations.lookup(second, now=NOW)
    assert found.state == invitations.PENDING and found.invitation.role == EventRole.viewer
    assert [i.email for i in invitations.pending(event, now=NOW)] == ["a@example.org"]


def test_accepting_makes_a_staff_account_once(event, owner):
    _, secret = invite(event, "new@example.org", EventRole.reception, actor=owner)
    with pytest.raises(DomainError) as short:
        invitations.accept_new(secret, name="新人", password="short", now=NOW)
    assert short.value.code == "password_too_short"
    with pytest.raises(DomainError) as nameless:
        invitations.accept_new(secret, name="  ", password=PASSWORD, now=NOW)
    assert nameless.value.code == "name_required"
    user = invitations.accept_new(secret, name="新人 一郎", password=PASSWORD, now=NOW)
    db.session.commit()
    assert (user.email, user.role, user.role_on(event.id)) == ("new@example.org", Role.staff, EventRole.reception)
    with pytest.raises(DomainError) as again:
        invitations.accept_new(secret, name="二度目", password=PASSWORD, now=NOW)
    assert again.value.code == "invitation_accepted"
    assert db.session.scalar(select(Invitation.accepted_at)) == NOW
    assert [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))] == \
        ["staff_invited", "staff_joined"]


def test_the_take_is_one_conditional_update(event, owner):
    """Two acceptances racing past the lookup: the UPDATE lets one through."""
    _, secret = invite(event, "race@example.org", actor=owner)
    invitations._take(secret, NOW)
    with pytest.raises(DomainError) as second:
        invitations._take(secret, NOW)
    assert second.value.code == "invitation_accepted"


def test_withdrawing_an_invitation_accepted_meanwhile_changes_nothing(app, event, owner):
    """The owner's page read the invitation (pending) before the invitee accepted it in another
    request: the withdrawal is a conditional UPDATE, refused, and audits nothing."""
    invitation, secret = invite(event, "late@example.org", actor=owner)
    db.session.refresh(invitation)
    db.session.expunge(invitation)  # the page's read, kept as it was
    db.session.commit()
    with app.app_context(), writing():
        invitations.accept_new(secret, name="新人 二郎", password=PASSWORD, now=NOW)
        db.session.commit()
    stale = db.session.merge(invitation, load=False)
    with writing(), pytest.raises(DomainError) as refused:
        invitations.revoke(stale, actor=owner, now=NOW)
    assert refused.value.code == "invitation_not_pending"
    db.session.commit()
    db.session.refresh(stale)
    assert (stale.accepted_at, stale.revoked_at) == (NOW, None)
    assert "invitation_revoked" not in db.session.scalars(select(AuditEntry.action)).all()


def test_an_existing_account_accepts_only_as_itself(event, owner):
    known = factories.make_staff("viewer", events=[event], email="known@example.org")
    other = factories.make_staff("reception", events=[])
    # Already on the staff: an invitation is refused, so take them off first.
    invitations.remove(event, known.id, actor=owner, now=NOW)
    db.session.commit()
    _, secret = invite(event, "known@example.org", EventRole.editor, actor=owner)
    with pytest.raises(DomainError) as exists:
        invitations.accept_new(secret, name="誰か", password=PASSWORD, now=NOW)
    assert exists.value.code == "account_exists"
    with pytest.raises(DomainError) as wrong:
        invitations.accept_existing(secret, other, now=NOW)
    assert wrong.value.code == "wrong_account"
    invitations.accept_existing(secret, known, now=NOW)
    db.session.commit()
    db.session.expire_all()
    assert known.role_on(event.id) == EventRole.editor and other.role_on(event.id) is None


def test_the_last_active_owner_can_neither_leave_nor_step_down(event, owner):
    for change in (lambda: invitations.change_role(event, owner.id, EventRole.editor, actor=owner, now=NOW),
                   lambda: invitations.remove(event, owner.id, actor=owner, now=NOW)):
        with pytest.raises(DomainError) as refused:
            change()
        assert refused.value.code == "last_owner"
    idle = factories.make_staff("owner", events=[event])
    idle.active = False
    db.session.commit()
    with pytest.raises(DomainError):
        invitations.change_role(event, owner.id, EventRole.editor, actor=owner, now=NOW)
    idle.active = True
    db.session.commit()
    invitations.change_role(event, owner.id, EventRole.editor, actor=owner, now=NOW)
    db.session.commit()
    db.session.expire_all()
    assert owner.role_on(event.id) == EventRole.editor
    with pytest.raises(DomainError) as no_longer:  # an editor manages no staff
        invitations.remove(event, idle.id, actor=owner, now=NOW)
    assert no_longer.value.code == "not_allowed"


def test_an_owner_accepting_a_lower_invitation_is_still_the_last_owner(event, owner):
    other_event_owner = factories.make_staff("owner", events=[event])
    _, secret = invite(event, "later@example.org", actor=other_event_owner)
    invitations.remove(event, other_event_owner.id, actor=owner, now=NOW)
    db.session.commit()
    invitation = db.session.scalar(select(Invitation))
    invitation.email = owner.email  # the only owner, invited as an editor
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        invitations.accept_existing(secret, owner, now=NOW)
    assert refused.value.code == "last_owner"


@pytest.mark.parametrize("own, asked, allowed", [
    (EventRole.owner, EventRole.editor, True),
    (EventRole.editor, EventRole.editor, True),
    (EventRole.editor, EventRole.viewer, True),
    (EventRole.editor, EventRole.owner, False),
    (EventRole.viewer, EventRole.reception, False),  # the desk is not in a viewer's role
    (EventRole.reception, EventRole.viewer, False),
    (EventRole.reception, EventRole.reception, True),
])
def test_a_token_never_has_more_than_its_creators_role(event, own, asked, allowed):
    user = factories.make_staff(own.value, events=[event])
    if allowed:
        assert api_tokens.create_api_token(user, "t", now=NOW, event=event, role=asked).startswith("er_")
    else:
        with pytest.raises(DomainError) as refused:
            api_tokens.create_api_token(user, "t", now=NOW, event=event, role=asked)
        assert refused.value.code == "token_role_too_high"


def test_a_token_is_limited_to_its_event_and_the_smaller_role(make_event, event):
    second = make_event()
    user = factories.make_staff("owner", events=[event, second])
    token = api_tokens.create_api_token(user, "desk", now=NOW, event=event, role=EventRole.reception)
    legacy = api_tokens.create_api_token(user, "old", now=NOW)
    db.session.commit()
    who, touched = api_tokens.principal_for_api_token(token, now=NOW)
    assert touched and who.grants == {event.id: permissions.GRANTS[EventRole.reception]}
    assert accounts.has_role(who, event.id) and not accounts.has_role(who, second.id)
    assert accounts.can(who, event.id, permissions.Capability.desk)
    assert not accounts.can(who, event.id, permissions.Capability.view)
    old, _ = api_tokens.principal_for_api_token(legacy, now=NOW)
    assert old.grants == {event.id: permissions.GRANTS[EventRole.owner], second.id: permissions.GRANTS[EventRole.owner]}
    # Demoted to viewer: the reception token now grants nothing (viewer ∩ reception), on the event still.
    invitations.change_role(event, user.id, EventRole.viewer,
                            actor=factories.make_staff("owner", events=[event]), now=NOW)
    db.session.commit()
    who, _ = api_tokens.principal_for_api_token(token, now=NOW)
    assert who.grants == {event.id: frozenset()}
    # Removed from the event: the token is revoked for good (a re-added person does not revive it).
    invitations.remove(event, user.id, actor=db.session.scalar(
        select(StaffUser).where(StaffUser.id != user.id)), now=NOW)
    db.session.commit()
    who, _ = api_tokens.principal_for_api_token(token, now=NOW)
    assert who is None


def test_a_token_needs_a_name_and_both_event_and_role(event, owner):
    for kwargs, code in (({"name": " "}, "token_name_required"),
                         ({"name": "x", "event": event}, "token_scope"),
                         ({"name": "x", "role": EventRole.viewer}, "token_scope")):
        name = kwargs.pop("name")
        with pytest.raises(DomainError) as refused:
            api_tokens.create_api_token(owner, name, now=NOW, **kwargs)
        assert refused.value.code == code
    outsider = factories.make_staff("reception", events=[])
    with pytest.raises(DomainError) as not_member:
        api_tokens.create_api_token(outsider, "x", now=NOW, event=event, role=EventRole.reception)
    assert not_member.value.code == "not_a_member"
