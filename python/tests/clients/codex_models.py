"""Seeds 002/003's deploy walkthroughs with the real MLOps Codex client (3.x or 4.x) against Forja.

Run by test_compat_codex_models.py with the client's own interpreter:
    python codex_models.py MAJOR SEED FORJA_URL PASSWORD WORKDIR
3.x finds Forja through MLOPS_URL, MLOPS_USER, MLOPS_PASSWORD and MLOPS_TENANT (set by the test);
4.x through the one line of docs/compat.md that points its base URL at Forja.
"""

import contextlib
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

import mlops_codex.base

MAJOR, SEED, URL, PASSWORD, WORK = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5])
SCORERS = Path(__file__).resolve().parent.parent / "seed_scorers"

# The only stub: every client constructor asks PyPI whether it is the newest release (no network here).
mlops_codex.base.check_lib_version = lambda: None
if MAJOR == "4":
    # 4.x hard-codes https://neomaril.datarisk.net/: docs/compat.md's one line points it at Forja.
    mlops_codex.base.parse_url = lambda _: f"{URL}/codex/api"

from mlops_codex.model import MLOpsModelClient  # noqa: E402

sys.path.insert(0, str(SCORERS))
from train_model import write_model  # noqa: E402

CREDENTIALS = {"login": "admin", "password": PASSWORD, "tenant": "forja"} if MAJOR == "4" else {}
GROUP = f"seed{SEED}-codex{MAJOR}"
# Seed 002's async scorer reads input.csv, seed 003's dados.csv: the file is uploaded under that name.
INPUT_NAME = "input.csv" if SEED == "002" else "dados.csv"
ROW = {"f1": 8.0, "f2": 1.0}


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def prepare(operation):
    """The walkthrough's PATH: the seed's scorer as app.py, a real pickled model, its requirements, a schema."""
    folder = WORK / operation
    folder.mkdir(parents=True)
    shutil.copy(SCORERS / f"seed_{SEED}_{operation.lower()}.py", folder / "app.py")
    write_model(folder)
    (folder / "schema.json").write_text('{"f1": 8.0, "f2": 1.0}')
    # 4.x validates the schema's extension even for async models (and crashes on None): a CSV sample.
    (folder / "schema.csv").write_text("f1,f2\n8.0,1.0\n")
    (folder / INPUT_NAME).write_text("f1,f2\n8.0,1.0\n1.0,9.0\n5.0,4.0\n")
    return str(folder) + "/"


client = MLOpsModelClient(**CREDENTIALS)
group_token = client.create_group(name=GROUP, description=f"Seed {SEED} with mlops_codex {MAJOR}.x")
check(isinstance(group_token, str) and group_token, "create_group returns the group token")

# --- Sync: create_model with wait_for_ready, get_model, predict, health ---
PATH = prepare("Sync")
sync_model = client.create_model(
    model_name="Teste notebook Sync",
    model_reference="score",
    source_file=PATH + "app.py",
    model_file=PATH + "model.pkl",
    requirements_file=PATH + "requirements.txt",
    schema=PATH + "schema.json",
    python_version="3.9",
    operation="Sync",
    input_type="json",
    group=GROUP,
    wait_for_ready=True,
)
check(str(client.status(sync_model.model_hash, GROUP)) == "Deployed", f"the sync model is Deployed, not {client.status(sync_model.model_hash, GROUP)}")
model = client.get_model(model_hash=sync_model.model_hash, group=GROUP, group_token=group_token)
check(type(model).__name__ == "SyncModel" and model.name == "Teste notebook Sync", f"get_model gives the SyncModel by its display name: {model!r}")
model.health()
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    answer = model.predict(ROW)
# Both majors print the server's answer (3.x as YAML, 4.x as JSON) and return None: what was printed is what the server answered.
check(answer is None, "predict prints its answer and returns None")
try:
    scored = json.loads(printed.getvalue())
except ValueError:
    import yaml  # 3.x depends on PyYAML; 4.x has no YAML

    scored = yaml.safe_load(printed.getvalue())
check(scored["pred"] == 1 and 0.5 < scored["proba"] <= 1, f"the seed's sync scorer answered {scored}")
print("sync prediction:", scored)

# --- Async: create_model, predict a file and wait, status, download the zip ---
PATH = prepare("Async")
async_model = client.create_model(
    model_name="Teste notebook Async",
    model_reference="score",
    source_file=PATH + "app.py",
    model_file=PATH + "model.pkl",
    requirements_file=PATH + "requirements.txt",
    schema=PATH + "schema.csv",
    python_version="3.10",
    operation="Async",
    input_type="csv",
    group=GROUP,
    wait_for_ready=True,
)
check(str(async_model.status()) == "Deployed", f"the async model is Deployed, not {async_model.status()}")
async_model.set_token(group_token)
execution = async_model.predict(PATH + INPUT_NAME, wait_complete=False)
check(isinstance(execution.exec_id, int), f"ExecutionId is an int: {execution.exec_id!r}")
execution.wait_ready()
check(execution.get_status() == "Succeeded", f"the execution Succeeded, not {execution.get_status()}")
execution.download(path=str(WORK), name="predictions.zip")
with zipfile.ZipFile(WORK / "predictions.zip") as z:
    check(z.namelist() == ["output.csv"], f"the zip holds the scorer's output.csv: {z.namelist()}")
    lines = z.read("output.csv").decode().splitlines()
check(lines[0] == "f1,f2,proba,pred" and [line.rsplit(",", 1)[1] for line in lines[1:]] == ["1", "0", "1"], f"the async output: {lines}")
print("async output:", lines)

# The same execution through MLOpsExecution (describe with the user token, status and result with the group's).
run = async_model.get_model_execution(execution.exec_id)
check(run.get_status()["Status"] == "Succeeded", "MLOpsExecution reads the execution as Succeeded")
run.download_result(path=str(WORK), filename="output.zip")
check(zipfile.ZipFile(WORK / "output.zip").read("output.csv").decode().splitlines() == lines, "the same zip through MLOpsExecution")

# --- Logs, disable, delete ---
logs = client.get_logs(model_hash=sync_model.model_hash, routine="Host")
check(any("Python 3.9" in line["OutputData"] for line in logs["Results"]), "the build log records the requested Python")
model.get_logs(routine="Run")
model.disable()
check(str(model.status()) == "Disabled", f"disabled: {model.status()}")
# delete() asks for the model's name on stdin before deleting.
sys.stdin = io.StringIO("Teste notebook Sync\n")
model.delete()
check(str(client.status(sync_model.model_hash, GROUP)) == "Deleted", "the deleted model reads as Deleted")
print("CODEX MODELS OK")
