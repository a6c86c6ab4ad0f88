"""Keys, error words and unknown API paths, side by side with a real `mlflow server`.

Each raw request goes to the real MLflow server (the pinned package, SQLite store) and to Forja, on
SQLite and on PostgreSQL; their answers must agree in status, error_code, error body fields and
message. The real `mlflow` client checks that what it logs with such keys comes back unchanged.
"""

from __future__ import annotations

import re

import httpx
import mlflow
import pytest
from conftest import ADMIN_TOKEN, unique
from mlflow.exceptions import MlflowException
from mlflow_side_by_side import SideBySide, forja, side_by_side  # noqa: F401

API = "/api/2.0/mlflow"
KEYS = ["tamanho_dados_pós_preparacao", "Regressão", "精度", "a/b.c-d e:f", "x" * 250]


def _run(extra):
    return lambda s: {"run_id": s.run_id, **extra}


@pytest.fixture
def sbs(side_by_side: SideBySide) -> SideBySide:
    side_by_side.new_run()
    return side_by_side


@pytest.mark.parametrize("key", KEYS)
def test_keys_mlflow_accepts_are_accepted_on_every_logging_route(sbs, key):
    for path, body in [
        ("runs/log-metric", {"key": key, "value": 0.5, "timestamp": 1, "step": 2}),
        ("runs/log-parameter", {"key": key, "value": "v"}),
        ("runs/set-tag", {"key": key, "value": "t"}),
        ("runs/log-batch", {"metrics": [{"key": f"{key[:240]}.b", "value": 1, "timestamp": 1, "step": 0}]}),
    ]:
        sbs.send("POST", f"{API}/{path}", json=_run(body)).assert_same()
    sbs.send("POST", f"{API}/experiments/set-experiment-tag", json=lambda s: {"experiment_id": s.experiment_id, "key": key, "value": "v"}).assert_same()
    pair = sbs.send("GET", f"{API}/runs/get", params=lambda s: {"run_id": s.run_id})
    pair.assert_same(at=("run", "data"))
    for answer in (pair.mlflow.json, pair.forja.json):
        data = answer["run"]["data"]
        assert {m["key"] for m in data["metrics"]} >= {key}
        assert {p["key"]: p["value"] for p in data["params"]}[key] == "v"
        assert {t["key"]: t["value"] for t in data["tags"]}[key] == "t"


RESOLVES = "Names may be treated as files in certain cases, and must not resolve to other names when treated as such"
BAD_CHARS = r"Names may only contain alphanumerics, underscores \(_\), dashes \(-\), periods \(\.\), spaces \( \), colon\(:\) and slashes \(/\)"

# A key MLflow refuses, and the words both servers use. The decomposed "ã" (a + U+0303) is refused
# by MLflow: Python's \w has no combining marks.
BAD_KEYS = [
    ("x" * 251, "exceeds the maximum length of 250 characters"),
    ("a/../b", RESOLVES + ". This name would resolve to 'b'"),
    ("../a", RESOLVES),
    ("..a", RESOLVES),
    ("/a", RESOLVES + ". This name would resolve to '/a'"),
    ("a//b", RESOLVES + ". This name would resolve to 'a/b'"),
    ("a/", RESOLVES),
    ("a/./b", RESOLVES),
    ("a\u0000b", BAD_CHARS),
    ("Regressa\u0303o", BAD_CHARS),
    ("a!b", BAD_CHARS),
]


@pytest.mark.parametrize("key,words", BAD_KEYS, ids=[repr(k[:12]) for k, _ in BAD_KEYS])
def test_keys_mlflow_refuses_are_a_400_naming_the_field_sent(sbs, key, words):
    for path, body, field in [
        ("runs/log-metric", {"key": key, "value": 1, "timestamp": 1}, None),  # MLflow says 'name' here
        ("runs/log-parameter", {"key": key, "value": "v"}, "key"),
        ("runs/set-tag", {"key": key, "value": "v"}, "key"),
        ("runs/log-batch", {"tags": [{"key": key, "value": "v"}]}, "tags[0].key"),
        ("runs/log-batch", {"metrics": [{"key": key, "value": 1, "timestamp": 1}]}, None),  # MLflow: metrics[0].name
    ]:
        pair = sbs.send("POST", f"{API}/{path}", json=_run(body))
        pair.assert_same(message=words)
        message = pair.forja.json["message"]
        # Forja names the field the caller sent: `key`, not the batch it makes of it.
        expected = field or ("key" if "batch" not in path else "metrics[0].key")
        assert f"'{expected}'" in message, pair
        assert "metrics.0" not in message and "params.0" not in message and "tags.0" not in message, pair


def test_missing_and_wrongly_typed_values_say_which(sbs):
    cases = [
        ("POST", "experiments/create", {}, r"^Missing value for required parameter 'name'\."),
        ("POST", "experiments/create", {"name": 123}, r"^Invalid value 123 for parameter 'name' supplied"),
        ("POST", "runs/log-metric", _run({"value": 1, "timestamp": 1}), r"^Missing value for required parameter 'key'\."),
        ("POST", "runs/log-metric", _run({"key": "", "value": 1, "timestamp": 1}), r"^Missing value for required parameter 'key'\."),
        ("POST", "runs/log-metric", _run({"key": 123, "value": 1, "timestamp": 1}), r"^Invalid value 123 for parameter 'key' supplied"),
        ("POST", "runs/log-metric", _run({"key": "a", "value": "x", "timestamp": 1}), r"^Invalid value \"x\" for parameter 'value' supplied"),
        ("POST", "runs/log-metric", _run({"key": "a", "value": 1}), r"^Missing value for required parameter 'timestamp'\."),
        ("POST", "runs/log-metric", _run({"key": "a", "value": 1, "timestamp": "abc"}), r"^Invalid value \"abc\" for parameter 'timestamp' supplied"),
        ("POST", "runs/log-batch", _run({"metrics": [{"key": "a", "timestamp": 0}]}), r"^Missing value for required parameter 'metrics\[0\]\.value'\."),
    ]
    for method, path, body, words in cases:
        sbs.send(method, f"{API}/{path}", json=body).assert_same(message=words)


def test_not_found_words_and_invalid_path(sbs):
    sbs.send("GET", f"{API}/runs/get", params={"run_id": "0123456789abcdef0123456789abcdef"}).assert_same(
        message=r"^Run with id=0123456789abcdef0123456789abcdef not found$"
    )
    sbs.send("GET", f"{API}/experiments/get", params={"experiment_id": "999999"}).assert_same(message=r"^No Experiment with id=999999 exists$")
    sbs.send("GET", f"{API}/experiments/get-by-name", params={"experiment_name": "nope-x"}).assert_same(
        message=r"^Could not find experiment with name 'nope-x'$"
    )
    sbs.send("POST", f"{API}/runs/delete-tag", json=_run({"key": "nope"})).assert_same(message=r"^No tag with name: nope in run with id [0-9a-f]{32}$")
    sbs.send("GET", f"{API}/artifacts/list", params=lambda s: {"run_id": s.run_id, "path": "../x"}).assert_same(message=r"^Invalid path")


@pytest.mark.parametrize(
    "path",
    ["/api/2.0/unknown", "/api/2.0/mlflow/unknown", "/ajax-api/2.0/mlflow/unknown", "/api/3.0/mlflow/nothing/here"],
)
def test_unknown_paths_under_an_api_prefix_are_a_404_never_the_ui(sbs, path):
    pair = sbs.send("GET", path, headers={"Accept": "text/html"})
    # MLflow's server answers its framework's HTML 404 here; Forja answers the JSON its client reads
    # as the same ENDPOINT_NOT_FOUND (the client derives that code from a bare 404).
    assert pair.mlflow.status == pair.forja.status == 404, pair
    assert pair.forja.json["error_code"] == "ENDPOINT_NOT_FOUND", pair


def test_unknown_paths_under_a_group_prefix_are_json_404(forja):
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept": "text/html"}
    for path in [
        "/g/default/api/2.0/mlflow/get-nothing",
        "/g/default/ajax-api/2.0/mlflow/x",
        "/g/default/api/2.0/unknown",
        "/api/v1/unknown",
        "/g/x/api/v1/nope",
    ]:
        r = httpx.get(f"{forja.url}{path}", headers=headers)
        assert r.status_code == 404, (path, r.text[:200])
        assert r.headers["content-type"].startswith("application/json"), (path, r.text[:200])
        assert "<html" not in r.text.lower()
    # The UI's own routes still get the page.
    r = httpx.get(f"{forja.url}/experiments/1", headers=headers)
    assert r.status_code == 200 and "<html" in r.text.lower()


@pytest.fixture
def tracking(forja, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(forja.url)
    yield mlflow.MlflowClient(forja.url)
    while mlflow.active_run():
        mlflow.end_run()


def test_the_mlflow_client_logs_non_ascii_keys_and_reads_them_back(tracking):
    mlflow.set_experiment(unique("keys"))
    with mlflow.start_run() as run:
        mlflow.log_metric("tamanho_dados_pós_preparacao", 1234, step=1)
        mlflow.log_metrics({"Regressão": 0.5, "精度": 0.9})
        mlflow.log_param("Regressão", "linear")
        mlflow.log_params({"精度/阈值": 0.1})
        mlflow.set_tag("etapa:preparação", "ok")
    got = tracking.get_run(run.info.run_id).data
    assert got.metrics == {"tamanho_dados_pós_preparacao": 1234, "Regressão": 0.5, "精度": 0.9}
    assert got.params == {"Regressão": "linear", "精度/阈值": "0.1"}
    assert got.tags["etapa:preparação"] == "ok"
    history = tracking.get_metric_history(run.info.run_id, "tamanho_dados_pós_preparacao")
    assert [(m.step, m.value) for m in history] == [(1, 1234)]
    found = tracking.search_runs([run.info.experiment_id], filter_string="metrics.`精度` > 0.5")
    assert [r.info.run_id for r in found] == [run.info.run_id]


@pytest.mark.parametrize("key", ["x" * 251, "a/../b", "/abs", "a\u0000b"], ids=["251-chars", "dotdot", "leading-slash", "nul"])
def test_the_mlflow_client_gets_a_clear_error_for_a_bad_key(tracking, key):
    mlflow.set_experiment(unique("bad-keys"))
    with mlflow.start_run():
        for log in (lambda: mlflow.log_metric(key, 1), lambda: mlflow.log_param(key, 1), lambda: mlflow.set_tag(key, 1)):
            with pytest.raises(MlflowException) as err:
                log()
            assert err.value.error_code == "INVALID_PARAMETER_VALUE"
            assert re.search(r"'(key|name|Metric name|Param key|metrics\[0\]\.key|params\[0\]\.key|tags\[0\]\.key)'", err.value.message), err.value.message


def test_the_forja_sdk_logs_and_reads_back_the_same_keys_on_the_native_api(forja):
    import forja as sdk

    with sdk.Client(forja.url, token=ADMIN_TOKEN) as client:
        experiments = sdk.ExperimentClient(client, progress=False)
        run_id = experiments.start_run(experiments.create_experiment(unique("sdk-keys"))).run_id
        experiments.log_metric(run_id, "精度/阈值", 0.5, step=3)
        experiments.log_params(run_id, {"Regressão": "linear", "tamanho_dados_pós_preparacao": 10})
        experiments.set_tag(run_id, "etapa:preparação", "ok")
        data = experiments.get_run(run_id)["data"]
        assert {m["key"]: m["value"] for m in data["metrics"]} == {"精度/阈值": 0.5}
        assert {p["key"]: p["value"] for p in data["params"]} == {"Regressão": "linear", "tamanho_dados_pós_preparacao": "10"}
        # A key with "/" travels as one path segment of the history route.
        assert [(m["step"], m["value"]) for m in experiments.get_metric_history(run_id, "精度/阈值")] == [(3, 0.5)]
        for bad in ("x" * 251, "a/../b", "/abs", "a\u0000b"):
            with pytest.raises(sdk.InvalidArgument) as err:
                experiments.log_metric(run_id, bad, 1)
            assert "metrics.0.key" in str(err.value)  # the native batch route names the batch's field


# Keys at the edges of the rule: scripts, digits of other systems, marks, punctuation, path forms.
EDGE_KEYS = [
    "a",
    "A_b-c.d e/f:g",
    "ñandú",
    "Ελληνικά",
    "кириллица",
    "עברית",
    "عربى",
    "हिन्दी",
    "ไทย",
    "한국어",
    "日本語のキー",
    "٣٤",
    "²",
    "Ⅻ",
    "_",
    "-",
    ".",
    "..",
    "...",
    ".a",
    "a.",
    "a..b",
    "a/..b",
    "..a",
    "a/.b",
    "./a",
    "a/.",
    "a/./b",
    "a//b",
    "a/",
    "/a",
    "//a",
    "a b",
    " a",
    "a ",
    "e\u0301",
    "a\u200bb",
    "a\u00a0b",
    "a\tb",
    "a!",
    "a#b",
    "a@b",
    "a$b",
    "a+b",
    "a=b",
    "a,b",
    "a;b",
    "a'b",
    "a\"b",
    "a\\b",
    "a|b",
    "a~b",
    "a%b",
    "a?b",
    "a*b",
    "(a)",
    "[a]",
    "{a}",
    "a\u0000",
    "😀",
    "a\u2028b",
    "x" * 250,
    "x" * 251,
    "精度/" * 83 + "a",
]


def test_forja_accepts_exactly_the_keys_mlflows_own_validator_accepts(server):
    from mlflow.utils.validation import _validate_length_limit, _validate_tag_name

    def mlflow_accepts(key: str) -> bool:
        try:
            _validate_tag_name(key)
            _validate_length_limit("key", 250, key)
            return True
        except MlflowException:
            return False

    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    exp = httpx.post(f"{server.url}{API}/experiments/create", json={"name": unique("edge-keys")}, headers=headers).json()["experiment_id"]
    run = httpx.post(f"{server.url}{API}/runs/create", json={"experiment_id": exp}, headers=headers).json()["run"]["info"]["run_id"]
    differ = []
    for key in EDGE_KEYS:
        r = httpx.post(f"{server.url}{API}/runs/set-tag", json={"run_id": run, "key": key, "value": "v"}, headers=headers)
        assert r.status_code in (200, 400), r.text
        if (r.status_code == 200) != mlflow_accepts(key):
            differ.append((key[:20], r.status_code, r.text[:200]))
    assert differ == []
