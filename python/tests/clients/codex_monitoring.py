"""Seed 003's "Monitoring your model" with the real MLOps Codex 4.x client against Forja.

Arguments: Forja's URL, a user, their password, the model hash (a Forja deployment id) and a folder
holding configuration.json, preprocess_sync.py and requirements.txt, as the seed's samples do.
"""

import sys

import mlops_codex.base

server, user, password, model_hash, folder = sys.argv[1:6]

# The one stub: the client asks PyPI for its newest version when constructed (no network in tests).
mlops_codex.base.check_lib_version = lambda: None
# Codex 4.x hard-codes its SaaS host; this is the documented line that points it at Forja.
mlops_codex.base.parse_url = lambda _: f"{server}/codex/api"

from mlops_codex.model import SyncModel  # noqa: E402  (after pointing the client at Forja)

model = SyncModel(name="credit", model_hash=model_hash, group="default", login=user, password=password, tenant="forja")

# As the seed writes it, plus wait_complete: register, host for the Period, wait until validated.
model.register_monitoring(
    preprocess_reference="parse",
    shap_reference="get_shap",
    configuration_file=folder + "/configuration.json",
    preprocess_file=folder + "/preprocess_sync.py",
    requirements_file=folder + "/requirements.txt",
    wait_complete=True,
)
status = model.host_monitoring_status("Day")
assert status.value == "Validated", status
print("MONITORING", status.value)
