"""User administration."""

from __future__ import annotations

import forja
import pytest
from conftest import unique


def test_create_list_and_disable(server, admin):
    names = sorted(unique("pager") for _ in range(3))
    for name in names:
        created = admin.users.create(name, "long-enough-password", display_name=name.upper(), email=f"{name}@example.com")
        assert created["username"] == name
        assert created["defaultGroup"] == "default"
        assert created["disabled"] is False

    # A page size of 2 makes the iterator follow several nextPageTokens.
    pager = admin.users.list(page_size=2)
    assert pager.next_page_token is not None
    listed = [u["username"] for u in pager]
    assert set(names) <= set(listed)
    assert "admin" in listed
    assert len(listed) == len(set(listed))

    page = admin.users.list_page(limit=1)
    assert len(page["items"]) == 1 and page["nextPageToken"]

    victim = names[0]
    assert admin.users.disable(victim)["disabled"] is True
    with forja.Client(server.url) as client:
        with pytest.raises(forja.Unauthenticated, match="disabled"):
            client.login(victim, "long-enough-password")
    assert admin.users.enable(victim)["disabled"] is False
    with forja.Client(server.url) as client:
        assert client.login(victim, "long-enough-password")["user"]["username"] == victim


def test_disabling_stops_existing_sessions(server, admin, new_user):
    user = new_user("cut")
    admin.users.disable(user.username)
    with pytest.raises(forja.Unauthenticated):
        user.client.whoami()


def test_update_changes_only_given_fields_and_none_clears(admin):
    name = unique("patch")
    admin.users.create(name, "long-enough-password", display_name="Before", email="before@example.com")
    after = admin.users.update(name, display_name="After")
    assert after["displayName"] == "After" and after["email"] == "before@example.com"
    cleared = admin.users.update(name, email=None)
    assert cleared["email"] is None and cleared["displayName"] == "After"
    assert admin.users.get(name)["email"] is None


def test_a_user_manages_themselves_but_not_others(new_user):
    me = new_user("self")
    other = new_user("other")
    assert me.client.users.get(me.username)["username"] == me.username
    assert me.client.users.update(me.username, display_name="Me")["displayName"] == "Me"

    with pytest.raises(forja.PermissionDenied):
        me.client.users.update(me.username, is_admin=True)
    with pytest.raises(forja.PermissionDenied):
        me.client.users.get(other.username)
    with pytest.raises(forja.PermissionDenied) as caught:
        me.client.users.list()  # raises at the call, not at the first iteration
    assert "administrator" in caught.value.message


def test_duplicate_and_invalid_users(admin):
    name = unique("twice")
    admin.users.create(name, "long-enough-password")
    with pytest.raises(forja.Conflict) as dup:
        admin.users.create(name, "long-enough-password")
    assert dup.value.code == "ALREADY_EXISTS"

    with pytest.raises(forja.InvalidArgument) as bad:
        admin.users.create(unique("short"), "short")
    assert [i["path"] for i in bad.value.issues] == ["body.password"]


def test_unknown_user_is_not_found_with_the_code(admin):
    with pytest.raises(forja.NotFound) as caught:
        admin.users.get("ghost")
    err = caught.value
    assert err.status == 404
    assert err.code == "NOT_FOUND"
    assert "ghost" in err.message
    assert err.request_id
    assert str(err) == f"{err.message} [NOT_FOUND, HTTP 404, request {err.request_id}]"
