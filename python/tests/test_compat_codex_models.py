"""Seeds 002 and 003's deploy walkthroughs with the real MLOps Codex client, 3.x and 4.x, against Forja.

Each scenario (clients/codex_models.py) runs with the client's own venv (client_venvs.py): it creates a
group, deploys the seed's sync and async scorers as written with a real pickled scikit-learn model,
waits for them, predicts, downloads the async result zip, reads logs, disables and deletes. The client
polls every 30 s, so a scenario spends most of its two minutes asleep: the four run at once (each in a
group of its own) and each test reads its own scenario's outcome.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from client_venvs import client_python, run_client
from conftest import ADMIN_PASSWORD

SCENARIO = Path(__file__).resolve().parent / "clients" / "codex_models.py"


WALKTHROUGHS = [("3", "002"), ("4", "003"), ("3", "003"), ("4", "002")]


def _walkthrough(server, folder: Path, major: str, seed: str) -> str:
    python = client_python(f"codex{major}")
    # 3.x reads its URL and credentials from the environment; 4.x takes them as arguments (see the scenario).
    env = {"MLOPS_URL": f"{server.url}/codex", "MLOPS_USER": "admin", "MLOPS_PASSWORD": ADMIN_PASSWORD, "MLOPS_TENANT": "forja"} if major == "3" else {}
    folder.mkdir(parents=True, exist_ok=True)
    return run_client(python, SCENARIO, cwd=folder, env=env, args=[major, seed, server.url, ADMIN_PASSWORD, str(folder)], timeout=1500)


@pytest.fixture(scope="module")
def walkthroughs(server, tmp_path_factory):
    """Every scenario's future, started together; a scenario's failure surfaces in its own test."""
    root = tmp_path_factory.mktemp("codex-models")
    # Both venvs first, one at a time: building them is the only part that contends.
    for major in {m for m, _ in WALKTHROUGHS}:
        client_python(f"codex{major}")
    with ThreadPoolExecutor(max_workers=len(WALKTHROUGHS)) as pool:
        futures = {(m, s): pool.submit(_walkthrough, server, root / f"{m}-{s}", m, s) for m, s in WALKTHROUGHS}
        yield futures


@pytest.mark.parametrize("major,seed", WALKTHROUGHS)
def test_seed_walkthrough_with_the_real_codex_client(walkthroughs, major, seed):
    output = walkthroughs[(major, seed)].result()
    assert "CODEX MODELS OK" in output, output[-4000:]
