"""Seeds 002 and 003's deploy walkthroughs with the real MLOps Codex client, 3.x and 4.x, against Forja.

Each scenario (clients/codex_models.py) runs with the client's own venv (client_venvs.py): it creates a
group, deploys the seed's sync and async scorers as written with a real pickled scikit-learn model,
waits for them, predicts, downloads the async result zip, reads logs, disables and deletes. The client
polls every 30 s, so each scenario takes a few minutes.
"""

from pathlib import Path

import pytest
from client_venvs import client_python, run_client
from conftest import ADMIN_PASSWORD

SCENARIO = Path(__file__).resolve().parent / "clients" / "codex_models.py"


@pytest.mark.parametrize("major,seed", [("3", "002"), ("4", "003"), ("3", "003"), ("4", "002")])
def test_seed_walkthrough_with_the_real_codex_client(server, tmp_path, major, seed):
    python = client_python(f"codex{major}")
    # 3.x reads its URL and credentials from the environment; 4.x takes them as arguments (see the scenario).
    env = {"MLOPS_URL": f"{server.url}/codex", "MLOPS_USER": "admin", "MLOPS_PASSWORD": ADMIN_PASSWORD, "MLOPS_TENANT": "forja"} if major == "3" else {}
    output = run_client(python, SCENARIO, cwd=tmp_path, env=env, args=[major, seed, server.url, ADMIN_PASSWORD, str(tmp_path)], timeout=1500)
    assert "CODEX MODELS OK" in output, output[-4000:]
