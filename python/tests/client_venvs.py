"""Python environments for other products' real clients (dhuolib, datarisk-mlops-codex) from PyPI.

They pin versions the test venv cannot share (dhuolib: requests 2.26, pandas 2.1; Codex 3 and 4
conflict with each other), so each requirements set gets its own venv, made once with uv and kept
between runs under ~/.cache/forja-test-clients/<name>-<hash of the requirements>.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

CACHE = Path(os.environ.get("FORJA_TEST_CLIENTS_DIR") or Path.home() / ".cache" / "forja-test-clients")
REQUIREMENTS_DIR = Path(__file__).resolve().parent / "clients"


def _uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        pytest.fail("uv is not in the test venv; `npm test` installs it there", pytrace=False)
    return found


def client_python(name: str) -> Path:
    """The interpreter of the venv made from python/tests/clients/<name>.txt (built on first use)."""
    requirements = REQUIREMENTS_DIR / f"{name}.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"{name}-{digest}"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    if ready.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    # pytest's workers run modules side by side: the first to need a client builds it, the others wait.
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            _build(venv, requirements)
    return python


def _build(venv: Path, requirements: Path) -> None:
    python = venv / "bin" / "python"
    shutil.rmtree(venv, ignore_errors=True)
    uv = _uv()
    for argv in (
        [uv, "venv", "-q", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "-q", "--python", str(python), "-r", str(requirements)],
    ):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=1200)
        if done.returncode != 0:
            pytest.fail(f"could not build the {venv.name} client venv: {' '.join(argv)}\n{done.stdout}{done.stderr}", pytrace=False)
    (venv / ".ready").write_text(requirements.read_text())


def run_client(python: Path, script: Path, *, cwd: Path, env: Optional[Dict[str, str]] = None, args: Optional[List[str]] = None, timeout: float = 900) -> str:
    """Runs a scenario script with a client's interpreter; a non-zero exit fails the test with its whole output."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FORJA_", "MLOPS_", "VIRTUAL_ENV"))}
    full_env.update(env or {})
    done = subprocess.run([str(python), str(script), *(args or [])], cwd=str(cwd), env=full_env, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"{script.name} exited with {done.returncode}:\n{output[-8000:]}", pytrace=False)
    return output
