"""Groups and memberships."""

from __future__ import annotations

import forja
import pytest
from conftest import unique


def test_create_get_list_update_delete(admin):
    name = unique("grp")
    created = admin.groups.create(name, description="first")
    assert created["name"] == name
    assert created["description"] == "first"
    assert created["myRole"] == "admin"

    assert admin.groups.get(name)["id"] == created["id"]
    assert name in [g["name"] for g in admin.groups.list()]
    assert admin.groups.update(name, "second")["description"] == "second"

    admin.groups.delete(name)
    with pytest.raises(forja.NotFound):
        admin.groups.get(name)


def test_a_taken_name_is_a_conflict(admin):
    name = unique("dup")
    admin.groups.create(name)
    with pytest.raises(forja.Conflict) as caught:
        admin.groups.create(name)
    assert caught.value.code == "ALREADY_EXISTS"
    assert caught.value.status == 409


def test_an_invalid_name_lists_the_field(admin):
    with pytest.raises(forja.InvalidArgument) as caught:
        admin.groups.create("Not A Slug")
    err = caught.value
    assert err.code == "INVALID_ARGUMENT"
    assert any(i["path"] == "body.name" for i in err.issues)


def test_members_add_change_remove(admin, new_user):
    owner = new_user("owner")
    alice = new_user("alice")
    group = unique("team")
    owner.client.groups.create(group)

    added = owner.client.groups.set_member(group, alice.username, "viewer")
    assert added["username"] == alice.username and added["role"] == "viewer"
    assert alice.client.groups.get(group)["myRole"] == "viewer"

    changed = owner.client.groups.set_member(group, alice.username, "editor")
    assert changed["role"] == "editor"
    roles = {m["username"]: m["role"] for m in owner.client.groups.members(group)}
    assert roles == {owner.username: "admin", alice.username: "editor"}

    owner.client.groups.remove_member(group, alice.username)
    assert [m["username"] for m in owner.client.groups.members(group)] == [owner.username]
    # Once out, the group is invisible to her rather than forbidden.
    with pytest.raises(forja.NotFound):
        alice.client.groups.get(group)


def test_the_last_admin_cannot_leave(new_user):
    owner = new_user("solo")
    group = unique("lonely")
    owner.client.groups.create(group)
    with pytest.raises(forja.Conflict) as caught:
        owner.client.groups.set_member(group, owner.username, "viewer")
    assert caught.value.code == "CONFLICT"
    assert "without an admin" in caught.value.message


def test_a_viewer_cannot_manage_members(new_user):
    owner = new_user("boss")
    viewer = new_user("watcher")
    group = unique("ro")
    owner.client.groups.create(group)
    owner.client.groups.set_member(group, viewer.username, "viewer")
    with pytest.raises(forja.PermissionDenied) as caught:
        viewer.client.groups.set_member(group, viewer.username, "admin")
    assert caught.value.code == "PERMISSION_DENIED"
    assert "viewer" in caught.value.message


def test_missing_member_and_missing_user_are_not_found(admin):
    with pytest.raises(forja.NotFound):
        admin.groups.remove_member("default", "ghost-user")
    with pytest.raises(forja.NotFound):
        admin.groups.set_member("default", "ghost-user", "viewer")


def test_the_default_group_cannot_be_deleted(admin):
    with pytest.raises(forja.Conflict):
        admin.groups.delete("default")


def test_empty_names_fail_before_any_request(admin):
    with pytest.raises(ValueError):
        admin.groups.get("")
