"""Personal, service and group tokens."""

from __future__ import annotations

import forja
import pytest
from conftest import unique


def test_personal_token_create_use_list_revoke(server, new_user):
    user = new_user("tok")
    created = user.client.tokens.create("laptop", expires_in_days=7)
    secret = created["secret"]
    token = created["token"]
    assert token["kind"] == "personal" and token["name"] == "laptop"
    assert token["owner"] == user.username
    assert token["expiresAt"] is not None
    assert secret.startswith(token["prefix"].rstrip("…"))

    with forja.Client(server.url, token=secret) as via_token:
        me = via_token.whoami()
        assert me["user"]["username"] == user.username
        assert me["tokenName"] == "laptop"

        assert [t["id"] for t in user.client.tokens.list()] == [token["id"]]

        revoked = user.client.tokens.revoke(token["id"])
        assert revoked["revokedAt"] is not None
        assert user.client.tokens.list() == []
        assert [t["id"] for t in user.client.tokens.list(include_revoked=True)] == [token["id"]]

        with pytest.raises(forja.Unauthenticated) as caught:
            via_token.whoami()
    assert caught.value.code == "UNAUTHENTICATED"
    assert "revoked" in caught.value.message


def test_service_token_acts_in_its_group(server, new_user):
    owner = new_user("svc-owner")
    group = unique("svc")
    owner.client.groups.create(group)
    created = owner.client.tokens.create("ci", kind="service", group=group, role="editor")
    assert created["token"]["group"] == group and created["token"]["role"] == "editor"

    listed = owner.client.tokens.list(group=group)
    assert [t["name"] for t in listed] == ["ci"]
    # A group's tokens do not show among the owner's personal ones.
    assert owner.client.tokens.list() == []

    with forja.Client(server.url, token=created["secret"]) as ci:
        me = ci.whoami()
    assert me["kind"] == "service"
    assert me["user"] is None
    assert me["memberships"] == [{"group": group, "role": "editor"}]


def test_a_viewer_cannot_create_a_token_for_the_group(new_user):
    owner = new_user("gov")
    viewer = new_user("peek")
    group = unique("guarded")
    owner.client.groups.create(group)
    owner.client.groups.set_member(group, viewer.username, "viewer")

    # A member without admin is told why; the server does not hide a group they can see.
    with pytest.raises(forja.PermissionDenied) as caught:
        viewer.client.tokens.create("sneaky", kind="service", group=group, role="admin")
    assert caught.value.code == "PERMISSION_DENIED"
    assert "needs admin" in caught.value.message
    with pytest.raises(forja.PermissionDenied):
        viewer.client.tokens.create("sneaky", kind="group", group=group)
    with pytest.raises(forja.PermissionDenied):
        viewer.client.tokens.list(group=group)


def test_an_outsider_cannot_even_see_the_group(new_user):
    owner = new_user("keeper")
    outsider = new_user("stranger")
    group = unique("hidden")
    owner.client.groups.create(group)
    with pytest.raises(forja.NotFound) as caught:
        outsider.client.tokens.create("x", kind="service", group=group, role="viewer")
    assert caught.value.code == "NOT_FOUND"


def test_a_service_token_needs_a_role(new_user):
    owner = new_user("norole")
    group = unique("roles")
    owner.client.groups.create(group)
    with pytest.raises(forja.InvalidArgument, match="needs a role"):
        owner.client.tokens.create("ci", kind="service", group=group)


def test_revoking_an_unknown_token_is_not_found(admin):
    with pytest.raises(forja.NotFound) as caught:
        admin.tokens.revoke("0000000000000000")
    assert caught.value.code == "NOT_FOUND"
