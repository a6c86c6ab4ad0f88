"""Side by side: the same HTTP request sent to a real ``mlflow server`` and to Forja, answers compared.

A test module that compares Forja with MLflow imports the fixtures it needs::

    from mlflow_side_by_side import forja, side_by_side  # noqa: F401

``real_mlflow`` (conftest) is a real ``mlflow server`` for the test module. ``forja`` is
parametrized over the two stores Forja supports: the session's SQLite server (conftest's
``server``) and conftest's ``pg_server``, a Forja whose store is a PostgreSQL database on the test
cluster. ``side_by_side`` gives a :class:`SideBySide` over both.

Each side has its own experiment and run (made once per test by :meth:`SideBySide.new_run`); a
request's body or query may be a function of the :class:`Side` it is sent to, so ids differ::

    pair = side_by_side.send("POST", "/api/2.0/mlflow/runs/log-metric",
                             json=lambda s: {"run_id": s.run_id, "key": "精度", "value": 1, "timestamp": 0})
    pair.assert_same()

:meth:`Pair.assert_same` compares the status, MLflow's ``error_code``, the message (against a
pattern both must match, when one is given) and the JSON shape (key names and value types, not
values: ids and timestamps always differ).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple, Union

import httpx
import pytest
from conftest import ADMIN_TOKEN, RealMlflow, Server


@pytest.fixture(params=["sqlite", "postgresql"])
def forja(request: pytest.FixtureRequest) -> Server:
    """Forja on each of its stores: a test using it runs once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("server" if request.param == "sqlite" else "pg_server")


@dataclass
class Side:
    """One server of the pair, and the ids of what was made on it for the test."""

    name: str  # "mlflow" or "forja"
    url: str
    headers: Dict[str, str]
    experiment_id: str = ""
    run_id: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", headers={**self.headers, **kwargs.pop("headers", {})}, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        r = self.call(method, path, **kwargs)
        assert r.status_code == 200, f"{self.name}: {method} {path} answered {r.status_code}: {r.text[:500]}"
        return r.json()


Value = Union[None, Dict[str, Any], Callable[[Side], Any]]


def shape(value: Any) -> Any:
    """What a JSON value looks like without its values: key names and types, lists by their first item."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


@dataclass
class Answer:
    status: int
    content_type: str
    text: str

    @property
    def json(self) -> Any:
        import json

        return json.loads(self.text)

    @property
    def is_json(self) -> bool:
        return "json" in self.content_type


@dataclass
class Pair:
    request: str
    mlflow: Answer
    forja: Answer

    def __str__(self) -> str:
        return f"{self.request}\n  mlflow: {self.mlflow.status} {self.mlflow.text[:600]}\n  forja:  {self.forja.status} {self.forja.text[:600]}"

    def assert_same(self, message: Optional[str] = None, *, at: Tuple[str, ...] = ()) -> None:
        """The same status and JSON shape (of the part under the keys ``at``, when given); for
        errors the same error_code and body fields, and both messages match the regular expression
        ``message`` when it is given (re.search)."""
        assert self.mlflow.status == self.forja.status, f"statuses differ:\n{self}"
        assert self.mlflow.is_json and self.forja.is_json, f"both answers must be JSON:\n{self}"
        m, f = self.mlflow.json, self.forja.json
        if self.mlflow.status >= 400:
            assert f.get("error_code") == m.get("error_code"), f"error codes differ:\n{self}"
            if message is not None:
                assert re.search(message, m.get("message", "")), f"MLflow's message does not match {message!r}:\n{self}"
                assert re.search(message, f.get("message", "")), f"Forja's message does not match {message!r}:\n{self}"
            assert sorted(f) == sorted(m), f"error bodies have different fields:\n{self}"
        else:
            for k in at:
                m, f = m[k], f[k]
            assert shape(f) == shape(m), f"JSON shapes differ:\n  mlflow {shape(m)}\n  forja  {shape(f)}\n{self}"


class SideBySide:
    def __init__(self, mlflow_url: str, forja_url: str, token: str = ADMIN_TOKEN) -> None:
        self.mlflow = Side("mlflow", mlflow_url, {})
        self.forja = Side("forja", forja_url, {"Authorization": f"Bearer {token}"})
        self.sides = (self.mlflow, self.forja)

    def new_run(self) -> None:
        """A new experiment and a run in it on each side (Side.experiment_id, Side.run_id)."""
        name = f"side-by-side-{uuid.uuid4().hex[:10]}"
        for s in self.sides:
            s.experiment_id = s.ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": name})["experiment_id"]
            s.run_id = s.ok("POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": s.experiment_id, "start_time": 0})["run"]["info"]["run_id"]

    def send(
        self,
        method: str,
        path: Union[str, Callable[[Side], str]],
        *,
        json: Value = None,
        params: Value = None,
        content: Optional[bytes] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Pair:
        """Sends one request to each side; ``path``, ``json`` and ``params`` may be functions of the Side."""
        answers = []
        for s in self.sides:
            at = lambda v, s=s: v(s) if callable(v) else v  # noqa: E731
            kwargs: Dict[str, Any] = {"headers": headers or {}}
            if json is not None:
                kwargs["json"] = at(json)
            if params is not None:
                kwargs["params"] = at(params)
            if content is not None:
                kwargs["content"] = content
            r = s.call(method, at(path), **kwargs)
            answers.append(Answer(r.status_code, r.headers.get("content-type", ""), r.text))
        shown = path if isinstance(path, str) else path(self.mlflow)
        return Pair(f"{method} {shown}", answers[0], answers[1])


@pytest.fixture
def side_by_side(real_mlflow: RealMlflow, forja: Server) -> SideBySide:
    return SideBySide(real_mlflow.url, forja.url)
