"""The audit log records what the SDK did."""

from __future__ import annotations

import itertools

import forja
import pytest
from conftest import unique


def test_audit_shows_the_actions(admin, new_user):
    owner = new_user("auditor")
    member = new_user("audited")
    group = unique("trail")
    owner.client.groups.create(group)
    owner.client.groups.set_member(group, member.username, "viewer")
    owner.client.groups.set_member(group, member.username, "editor")
    created = owner.client.tokens.create("deploy", kind="service", group=group, role="viewer")
    owner.client.tokens.revoke(created["token"]["id"])
    owner.client.groups.remove_member(group, member.username)

    # A group admin reads their group's trail, newest first.
    entries = list(owner.client.audit(group=group))
    actions = [e["action"] for e in entries]
    assert actions == ["member.remove", "token.revoke", "token.create", "member.update", "member.add", "group.create"]
    assert {e["actor"] for e in entries} == {owner.username}
    assert {e["group"] for e in entries} == {group}
    token_entry = entries[2]
    assert token_entry["resourceId"] == created["token"]["id"]
    assert token_entry["details"]["role"] == "viewer"
    # The secret is never written to the log.
    assert created["secret"] not in str(entries)

    # The system admin sees user creation too, filtered by action and actor.
    created_users = [e["resourceId"] for e in admin.audit(action="user.create", actor="admin")]
    assert owner.username in created_users and member.username in created_users


def test_audit_pages_follow_the_token(admin, new_user):
    owner = new_user("pages")
    group = unique("paged")
    owner.client.groups.create(group)
    for i in range(4):
        owner.client.groups.update(group, f"description {i}")

    first = owner.client.audit_page(group=group, limit=2)
    assert len(first["items"]) == 2 and first["nextPageToken"]
    second = owner.client.audit_page(group=group, limit=2, page_token=first["nextPageToken"])
    assert {e["id"] for e in first["items"]}.isdisjoint(e["id"] for e in second["items"])

    everything = list(owner.client.audit(group=group, page_size=2))
    assert len(everything) == 5
    assert list(itertools.islice(owner.client.audit(group=group, page_size=2), 3)) == everything[:3]


def test_a_plain_member_cannot_read_the_audit_log(new_user):
    user = new_user("nosy")
    with pytest.raises(forja.PermissionDenied):
        user.client.audit()
