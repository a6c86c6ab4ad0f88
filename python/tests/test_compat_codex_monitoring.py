"""The real MLOps Codex 4.x client's monitoring of a hosted model (register_monitoring) against Forja."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pandas as pd
from client_venvs import client_python, run_client
from conftest import ADMIN_TOKEN, Server

SCENARIO = Path(__file__).resolve().parent / "clients" / "codex_monitoring.py"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _deployment_with_log(server: Server) -> str:
    """A deployment made through Forja's API, and its inference log: 200 requests before TrainDateRef, 50 from a minute ago."""
    created = httpx.post(
        f"{server.url}/api/v1/deployments",
        headers=ADMIN,
        data={"name": "codex-monitored"},
        files={"source": ("scorer.py", b"def score(data, base_path):\n    return {'proba': 0.5}\n"), "model": ("model.json", b"{}")},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    deployment = created.json()["deployment"]["id"]
    recent = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1)
    log = pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(250)],
            "logged_at": [datetime(2026, 11, 1) + timedelta(hours=i) if i < 200 else recent for i in range(250)],
            "latency_ms": 1.5,
            "model_version": "1",
            "row_index": 0,
            "income": [((i * 37) % 1000) / 10 for i in range(250)],
            "age": [20.0 + i % 60 + (0 if i < 200 else 30) for i in range(250)],
            "prediction_proba": [(i % 10) / 10 for i in range(250)],
        }
    )
    written = httpx.post(
        f"{server.url}/api/v1/lake/tables/inference__{deployment}/rows",
        headers={**ADMIN, "Content-Type": "application/vnd.apache.parquet"},
        content=log.to_parquet(index=False),
        timeout=60,
    )
    assert written.status_code == 201, written.text
    return deployment


def test_codex4_register_monitoring_waits_until_validated(server: Server, tmp_path: Path) -> None:
    user, password = "codex-monitor", "codex-monitor-password"
    assert httpx.post(f"{server.url}/api/v1/users", headers=ADMIN, json={"username": user, "password": password}).status_code == 201
    assert httpx.put(f"{server.url}/api/v1/groups/default/members/{user}", headers=ADMIN, json={"role": "editor"}).status_code == 200
    deployment = _deployment_with_log(server)
    (tmp_path / "configuration.json").write_text(
        json.dumps({"Period": "Day", "TrainData": {"TrainDateRef": "2026-12-01"}, "InputCols": ["income", "age"], "OutputCols": ["proba"]})
    )
    (tmp_path / "preprocess_sync.py").write_text("def parse(input_json, output_json):\n    raise RuntimeError('not run by Forja')\n")
    (tmp_path / "requirements.txt").write_text("pandas\n")

    output = run_client(client_python("codex4"), SCENARIO, cwd=tmp_path, args=[server.url, user, password, deployment, str(tmp_path)])
    assert "MONITORING Validated" in output, output

    monitor = httpx.get(f"{server.url}/api/v1/monitors/codex-{deployment}-day", headers=ADMIN).json()
    assert monitor["scheduled"] and monitor["lastRun"]["status"] == "succeeded", monitor
    assert monitor["lastRun"]["datasetDrift"] is not None, "the first look compared the log with the reference"
