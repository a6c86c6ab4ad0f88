"""Drift between two samples in one call: two pandas DataFrames, or two lake tables of your group.

The server computes it (``POST /api/v1/drift``) with Evidently's DataDriftPreset defaults: per column
KS, chi-square, Z, Jensen–Shannon or normed Wasserstein chosen automatically (or the method you
name), PSI with Evidently's binning, missing/infinite counts, range and unseen-category checks.

Example::

    import forja

    report = forja.drift(train_df, live_df)                       # FORJA_URL / FORJA_TOKEN
    print(report["datasetDrift"], [c["column"] for c in report["columns"] if c["drifted"]])
    table = forja.drift(train_df, live_df, as_frame=True, also_compute=["psi"],
                        per_column={"age": {"method": "psi", "threshold": 0.2}})
    forja.drift_tables({"table": "train"}, {"table": "live", "filter": "day >= '2026-12-01'"})
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional

from .client import Client
from .lake import _pandas, _to_parquet

API = "/api/v1/drift"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _options(options: Mapping[str, Any]) -> Dict[str, Any]:
    # Python spelling (numerical_method, per_column, also_compute, drift_share) → the API's.
    return {_camel(key): value for key, value in options.items() if value is not None}


def _result(report: Dict[str, Any], as_frame: bool) -> Any:
    if not as_frame:
        return report
    rows = [
        {
            "column": c["column"],
            "kind": c["kind"],
            "method": c["result"]["method"],
            "statistic": c["result"]["statistic"],
            "p_value": c["result"]["pValue"],
            "threshold": c["result"]["threshold"],
            "drifted": c["drifted"],
            "missing_reference": c["missing"]["reference"],
            "missing_current": c["missing"]["current"],
            "note": c["note"],
            **{f"{o['method']}": o["statistic"] for o in c["others"]},
        }
        for c in report["columns"]
    ]
    return _pandas().DataFrame(rows)


def drift(reference: Any, current: Any, *, client: Optional[Client] = None, as_frame: bool = False, **options: Any) -> Any:
    """Drift of each shared column of two DataFrames (sent as Parquet). Options as the API's
    DriftOptions in Python spelling: ``columns``, ``numerical_method``, ``categorical_method``,
    ``numerical_threshold``, ``categorical_threshold``, ``per_column``, ``psi`` (``binning``,
    ``bins``, ``epsilon``), ``drift_share``, ``also_compute``. Returns the report (a dict), or with
    ``as_frame=True`` one DataFrame row per column. Bad input (no reference rows, a named column
    missing on one side) raises :class:`~forja.InvalidArgument` naming it.
    """
    client = client or Client()
    ref_bytes = _to_parquet(reference)
    cur_bytes = _to_parquet(current)
    fields = {"options": json.dumps(_options(options))}
    files = [("reference", "reference.parquet", lambda: ref_bytes), ("current", "current.parquet", lambda: cur_bytes)]
    return _result(client._multipart(API, fields, files), as_frame)


def drift_tables(reference: Mapping[str, Any], current: Mapping[str, Any], *, client: Optional[Client] = None, as_frame: bool = False, **options: Any) -> Any:
    """Drift between two lake tables of the client's group; each side is ``{"table", "filter", "version"}``."""
    client = client or Client()
    body = {"reference": dict(reference), "current": dict(current), "options": _options(options)}
    return _result(client.request("POST", API, json=body), as_frame)
