"""The real MLOps Codex clients (datarisk-mlops-codex 3.x and 4.x from PyPI) log in to Forja, list
and create groups and refresh group tokens: python/tests/clients/codex_auth.py run with each
client's own interpreter against the session's server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from client_venvs import client_python, run_client
from conftest import ADMIN_TOKEN, unique

SCENARIO = Path(__file__).resolve().parent / "clients" / "codex_auth.py"


@pytest.mark.parametrize("client", ["codex3", "codex4"])
def test_real_codex_client_logs_in_and_manages_groups(server, new_user, tmp_path, client):
    user = new_user(client)
    group = unique(f"{client}-team")
    # 3.x is pointed at Forja by its variable; 4.x by the one-liner inside the scenario.
    env = {"MLOPS_URL": f"{server.url}/codex"} if client == "codex3" else {}
    output = run_client(client_python(client), SCENARIO, cwd=tmp_path, env=env, args=[server.url, user.username, user.password, group])
    tokens = json.loads(output.strip().splitlines()[-1])

    def status(token: str) -> int:
        return httpx.get(f"{server.url}/api/v1/whoami", headers={"authorization": f"Bearer {token}"}).status_code

    # The forced refresh revoked the earlier Codex group tokens; the newest one works, as a token of the new group.
    assert [status(tokens[k]) for k in ("created", "kept", "forced")] == [401, 401, 200]
    who = httpx.get(f"{server.url}/api/v1/whoami", headers={"authorization": f"Bearer {tokens['forced']}"}).json()
    assert who["kind"] == "group"
    groups = {g["name"]: g for g in user.client.groups.list()}
    assert groups[group]["myRole"] == "admin"

    # The client logged in before every call (4.x) or per constructor (3.x): one session, one audit entry.
    logins = httpx.get(
        f"{server.url}/api/v1/audit",
        params={"action": "auth.login", "actor": user.username},
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()["items"]
    codex_logins = [e for e in logins if e["details"] and e["details"].get("client") == "MLOps Codex session"]
    assert len(codex_logins) == 1, logins
