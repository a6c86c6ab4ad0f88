"""Logging in and out, whoami, and configuration from arguments and the environment."""

from __future__ import annotations

import forja
import pytest
from conftest import ADMIN_PASSWORD, ADMIN_TOKEN, CountingTransport


def test_version_needs_no_token(server):
    with forja.Client(server.url) as client:
        v = client.version()
    assert v["api"] == "v1"
    assert v["version"]


def test_login_keeps_the_token_for_later_calls(server):
    with forja.Client(server.url) as client:
        assert client.token is None
        session = client.login("admin", ADMIN_PASSWORD)
        assert session["user"]["username"] == "admin"
        assert session["user"]["isAdmin"] is True
        assert client.token == session["token"]
        me = client.whoami()
    assert me["kind"] == "user"
    assert me["user"]["username"] == "admin"
    assert me["tokenId"]  # the session token, not the admin token


def test_wrong_password_raises_unauthenticated_with_the_server_message(server):
    with forja.Client(server.url) as client:
        with pytest.raises(forja.Unauthenticated) as caught:
            client.login("admin", "not-the-password")
        assert client.token is None
    err = caught.value
    assert err.status == 401
    assert err.code == "UNAUTHENTICATED"
    assert err.message == "Wrong username or password."
    assert err.request_id
    assert "Wrong username or password." in str(err)
    assert "UNAUTHENTICATED" in str(err)
    assert isinstance(err, forja.ApiError) and isinstance(err, forja.ForjaError)


def test_whoami_lists_memberships(admin):
    me = admin.whoami()
    assert me["tokenName"] == "FORJA_ADMIN_TOKEN"
    assert {"group": "default", "role": "admin"} in me["memberships"]
    assert me["defaultGroup"] == "default"


def test_anonymous_calls_are_unauthenticated(server):
    with forja.Client(server.url) as client:
        with pytest.raises(forja.Unauthenticated) as caught:
            client.whoami()
    assert "Authorization" in caught.value.message


def test_logout_revokes_the_session_token(server, new_user):
    user = new_user("leaver")
    session_token = user.client.token
    user.client.logout()
    assert user.client.token is None
    with forja.Client(server.url, token=session_token) as stale:
        with pytest.raises(forja.Unauthenticated, match="revoked"):
            stale.whoami()


def test_environment_configures_the_client(server, monkeypatch):
    monkeypatch.setenv("FORJA_URL", server.url + "/")
    monkeypatch.setenv("FORJA_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("FORJA_GROUP", "default")
    transport = CountingTransport()
    with forja.Client(transport=transport) as client:
        assert client.base_url == server.url
        assert client.group == "default"
        assert client.whoami()["user"]["username"] == "admin"
    sent = transport.requests[0]
    assert sent.headers["x-forja-group"] == "default"
    assert sent.headers["authorization"] == f"Bearer {ADMIN_TOKEN}"


def test_arguments_win_over_the_environment(server, monkeypatch):
    monkeypatch.setenv("FORJA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FORJA_TOKEN", "not-a-real-token-at-all")
    monkeypatch.setenv("FORJA_GROUP", "elsewhere")
    with forja.Client(server.url, token=ADMIN_TOKEN, group="default") as client:
        assert client.base_url == server.url
        assert client.group == "default"
        assert client.whoami()["user"]["username"] == "admin"


def test_defaults_without_environment():
    client = forja.Client()
    try:
        assert client.base_url == "http://127.0.0.1:5050"
        assert client.token is None
        assert client.group is None
    finally:
        client.close()


def test_api_root_and_bad_scheme_in_the_url(server):
    with forja.Client(server.url + "/api/v1") as client:
        assert client.base_url == server.url
        assert client.version()["api"] == "v1"
    with pytest.raises(ValueError, match="http:// or https://"):
        forja.Client("127.0.0.1:5050")


def test_the_token_is_never_shown(server):
    with forja.Client(server.url, token=ADMIN_TOKEN, group="default") as client:
        assert ADMIN_TOKEN not in repr(client)
        assert "authenticated" in repr(client)
        with pytest.raises(forja.NotFound) as caught:
            client.users.get("nobody-here")
    assert ADMIN_TOKEN not in str(caught.value)
    assert ADMIN_TOKEN not in repr(caught.value)
