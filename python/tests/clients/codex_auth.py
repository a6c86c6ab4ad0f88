"""The real MLOps Codex client (3.x or 4.x) logging in to Forja, listing and creating groups and
refreshing a group token, as a notebook does. Run by test_compat_codex_auth.py with the client's own
interpreter: `python codex_auth.py <forja url> <user> <password> <new group name>`.

3.x finds Forja through MLOPS_URL (set by the test to <forja url>/codex) and its tenant through
MLOPS_TENANT; 4.x hard-codes its SaaS host, so it is pointed at Forja with the documented one-liner
below. Prints one JSON line: the group tokens it got, for the test to check against Forja.
"""

import json
import sys
from importlib.metadata import version

import mlops_codex.base
from mlops_codex.exceptions import AuthenticationError, GroupError, InputError

# Stubbed, and nothing else: every client constructor asks PyPI whether the SDK is outdated, and the
# tests run offline. The answer only ever prints a warning.
mlops_codex.base.check_lib_version = lambda: None

forja, user, password, group = sys.argv[1:5]
MAJOR = int(version("datarisk-mlops-codex").split(".")[0])
API = f"{forja}/codex/api"

if MAJOR >= 4:
    # The documented way to point 4.x at Forja (docs/compat.md): every class builds its URLs from the
    # base URL BaseMLOps.__init__ computes with this function.
    mlops_codex.base.parse_url = lambda _: f"{forja}/codex/api"

from mlops_codex.base import BaseMLOpsClient  # noqa: E402
from mlops_codex.dataset import MLOpsDatasetClient  # noqa: E402
from mlops_codex.datasources import MLOpsDataSourceClient  # noqa: E402
from mlops_codex.external_monitoring import MLOpsExternalMonitoringClient  # noqa: E402
from mlops_codex.model import MLOpsModelClient  # noqa: E402
from mlops_codex.preprocessing import MLOpsPreprocessingAsyncV2Client, MLOpsPreprocessingClient  # noqa: E402
from mlops_codex.training import MLOpsTrainingClient  # noqa: E402

# Forja's default tenant (FORJA_CODEX_TENANT). 4.x requires all three as arguments; 3.x also reads
# them from MLOPS_USER, MLOPS_PASSWORD and MLOPS_TENANT.
credentials = dict(login=user, password=password, tenant="forja")

# Every client class logs in (GET /health, POST /login) when constructed, and must land on Forja.
for cls in (
    BaseMLOpsClient,
    MLOpsModelClient,
    MLOpsTrainingClient,
    MLOpsPreprocessingClient,
    MLOpsPreprocessingAsyncV2Client,
    MLOpsDatasetClient,
    MLOpsDataSourceClient,
    MLOpsExternalMonitoringClient,
):
    made = cls(**credentials)
    assert made.base_url == API, f"{cls.__name__} talks to {made.base_url}, not {API}"
    assert made.version, f"{cls.__name__} read no Version from /health"

client = MLOpsModelClient(**credentials)

names = [g["Name"] for g in client.list_groups()]
assert "default" in names, names
assert group not in names, names

created = client.create_group(name=group, description="Made by the real Codex client")
assert created.startswith("fjg_"), created
listed = {g["Name"]: g for g in BaseMLOpsClient(**credentials).list_groups()}
assert listed[group]["Description"] == "Made by the real Codex client", listed
assert listed[group]["Role"] == "admin", listed

try:
    client.create_group(name=group.upper(), description="again")
    raise AssertionError("creating an existing group (in other case) should fail")
except GroupError:
    pass

kept = client.refresh_group_token(name=group)
forced = client.refresh_group_token(name=group, force=True)
assert len({created, kept, forced}) == 3, "each refresh is a new secret"

try:
    client.refresh_group_token(name="no-such-group-anywhere")
    raise AssertionError("refreshing an unknown group should fail")
except InputError:
    pass

try:
    BaseMLOpsClient(login=user, password=password, tenant="datarisk")
    raise AssertionError("a wrong tenant should be refused")
except AuthenticationError as e:
    assert "FORJA_CODEX_TENANT" in str(e), str(e)

print(json.dumps({"created": created, "kept": kept, "forced": forced}))
