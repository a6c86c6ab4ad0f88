"""examples/monitoring_shift.py end to end against a live server: the monitor flags exactly the two
features the example shifted, the labels posted afterwards show the accuracy drop against the
baseline, and the alert rule on accuracy fires."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ADMIN_TOKEN, REPO


def test_the_monitoring_example_flags_the_shifted_features_and_the_accuracy_drop(server):
    env = {**os.environ, "FORJA_URL": server.url, "FORJA_TOKEN": ADMIN_TOKEN}
    env.pop("FORJA_GROUP", None)
    done = subprocess.run([sys.executable, str(REPO / "examples" / "monitoring_shift.py")], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])

    # Drift: the two shifted features, and not one of the four left alone.
    assert summary["drifted"] == summary["shifted"] == ["mean_radius", "mean_texture"], done.stderr[-3000:]
    assert summary["stable"] == ["mean_compactness", "mean_smoothness", "mean_symmetry", "worst_concave_points"]

    # Performance: every traffic row labelled, accuracy well below the cross-validated baseline, flagged.
    assert summary["labels"] == 285
    assert summary["baseline_accuracy"] > 0.9
    assert summary["live_accuracy"] < summary["baseline_accuracy"] - 0.1, summary
    assert "accuracy" in summary["degraded"]

    # The alert on accuracy fired, with the value the run measured.
    assert len(summary["alerts"]) == 1, summary
    alert = summary["alerts"][0]
    assert alert["metric"] == "performance.accuracy" and alert["status"] == "open"
    assert abs(alert["value"] - summary["live_accuracy"]) < 1e-9
