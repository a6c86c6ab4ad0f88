"""Production monitoring: monitors that compare what a deployment (or any lake table) sees with
the data its model learned from, the labels that come back later, and the alerts that follow.

:class:`MonitoringClient` registers monitors (:meth:`~MonitoringClient.register_monitor`, or MLOps
Codex's :meth:`~MonitoringClient.register_monitoring` with its ``configuration.json``), runs them
now and waits (:meth:`~MonitoringClient.run`), reads their results as pandas frames
(:meth:`~MonitoringClient.results`, :meth:`~MonitoringClient.drift_report`) and handles alerts.
Labels are posted on the deployment: :meth:`forja.ForjaModel.post_labels`. A :class:`Monitor` and a
:class:`MonitorRun` carry the same calls for one monitor or run.

Results are **long** by default: one row per run and metric (``run_id``, ``window_start``,
``window_end``, ``status``, ``metric``, ``value``), the flat metric names alert rules use
(``drift.share``, ``drift.<column>.<method>``, ``performance.accuracy``, ``shap.<feature>``…).
``results(monitor, wide=True)`` pivots them to one row per run and one column per metric.

Drift between two data frames, with no monitor at all, is :func:`forja.drift`.

Example::

    import forja

    with forja.MonitoringClient() as monitoring:          # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
        monitor = monitoring.register_monitor(
            "credit-drift", deployment="credit", reference="credit_train", period="day",
            checks={"performance": {"task": "classification"}},
        )
        monitor.add_alert_rule("inputs moved", "drift.share", ">", 0.3)
        run = monitor.run()                                  # now, over the last day; waits
        print(run.drift_report()[["column", "method", "statistic", "drifted"]])
        print(monitoring.results(monitor, wide=True))
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from ._jobs import VerboseClientOwner, WaitsOnJob
from .client import API, JSON, Client, _Field, _segment
from .deployments import _is_dataframe, _plain_json
from .drift import _camel
from .drift import _result as drift_result
from .exceptions import ExecutionTimeout, ForjaError, NotFound, RunFailed
from .lake import _to_parquet
from .pagination import Pager

__all__ = ["MonitoringClient", "Monitor", "MonitorRun", "MonitorRunFailed"]

PathLike = Union[str, "os.PathLike[str]"]

MONITORS = f"{API}/monitors"
ALERTS = f"{API}/alerts"
DEPLOYMENTS = f"{API}/deployments"
# Statuses in which a run is still to end.
PENDING = ("queued", "running")
PERIODS = ("hour", "day", "week", "month")
OPERATORS = (">", ">=", "<", "<=")
# A run reads the window's rows, computes statistics and maybe SHAP values: minutes, not hours.
RUN_WAIT = 1800.0


class MonitorRunFailed(RunFailed):
    """A monitor run ended ``failed``. Also an :class:`~forja.ExecutionFailed`.

    Attributes:
        message: the server's reason, e.g. that the window has no rows or a column is missing.
        run_id: the run (also ``execution_id``); job_id: its job.
        run: the :class:`MonitorRun` itself (``None`` after unpickling).

    Example::

        try:
            monitor.run()
        except forja.MonitorRunFailed as err:
            print(err.message)
    """

    _KIND = "Monitor run"


class MonitoringClient(VerboseClientOwner):
    """Registers and runs monitors, reads their results, posts labels and handles alerts.

    Pass a :class:`~forja.Client` to share its connection and login, or the URL, token and
    group, which fall back to ``FORJA_URL``, ``FORJA_TOKEN`` and ``FORJA_GROUP``. Monitors belong
    to the group the client acts in. ``verbose=True`` prints the runs' job logs while waiting.

    Example::

        with forja.MonitoringClient("http://127.0.0.1:5050", token="fjp_…", group="credit") as monitoring:
            for monitor in monitoring.list_monitors():
                print(monitor.name, monitor.last_run)
    """

    # -- monitors ---------------------------------------------------------------------------

    def register_monitor(
        self,
        name: str,
        deployment: Any = None,
        table: Optional[str] = None,
        reference: Any = None,
        period: str = "day",
        checks: Optional[Mapping[str, Any]] = None,
        *,
        time_column: Optional[str] = None,
        input_columns: Optional[Sequence[str]] = None,
        output_columns: Optional[Sequence[str]] = None,
        scheduled: bool = True,
        description: str = "",
    ) -> "Monitor":
        """Creates a monitor and returns it.

        - What is watched: ``deployment`` (a :class:`~forja.ForjaModel`, its id or name: its
          inference log, which needs ``settings.inferenceLog.sampleRate`` above 0), or ``table``
          (a lake table of the group) with its ``time_column``.
        - ``reference``, what "normal" is: a lake table's name; a pandas DataFrame or the path of
          a ``.parquet``/``.csv`` file (uploaded as the monitor's reference); or the server's
          form as a dict: ``{"kind": "table", "table", "filter", "version"}``, ``{"kind": "run",
          "runId", "dataset"}`` (a tracking run's logged dataset), ``{"kind": "training",
          "trainingId"}``. ``None``: upload one later with :meth:`Monitor.upload_reference`.
        - ``period``: ``"hour"``, ``"day"``, ``"week"`` or ``"month"``: the window each run looks
          at, and how often it runs by itself when ``scheduled`` (else only on demand).
        - ``checks``: ``{"drift": {...}, "performance": {"task": "classification"|"regression",
          ...}, "explanations": {...}}`` (see the monitoring guide); default: drift with
          Evidently's automatic tests.
        - ``input_columns`` / ``output_columns``: the model's features and outputs (default: the
          reference's columns the target also has, and the log's prediction columns).

        Raises :class:`~forja.InvalidArgument` naming what is wrong (e.g. columns the model
        does not have, an empty reference), :class:`~forja.Conflict` if the name is taken and
        :class:`~forja.NotFound` for an unknown deployment or table.

        Example::

            monitor = monitoring.register_monitor(
                "churn-watch", deployment=model, reference=train_df, period="week",
                checks={"performance": {"task": "classification", "baseline": {"accuracy": 0.91}}},
                input_columns=list(train_df.columns),
            )
        """
        if (deployment is None) == (table is None):
            raise ValueError("register_monitor() watches a deployment or a table: give exactly one of deployment= and table=")
        if table is not None and not time_column:
            raise ValueError(f"a monitor of table {table!r} needs time_column=: the column that says when each row happened")
        target: JSON = {"deployment": _deployment_ref(deployment)} if deployment is not None else {"table": table, "timeColumn": time_column}
        upload = _is_upload(reference)
        body: JSON = {
            "name": name,
            "description": description,
            "target": target,
            "checks": dict(checks or {}),
            "period": _period(period),
            "scheduled": bool(scheduled),
        }
        if reference is not None and not upload:
            body["reference"] = _reference(reference)
        if input_columns is not None:
            body["inputColumns"] = _columns(input_columns, "input_columns")
        if output_columns is not None:
            body["outputColumns"] = _columns(output_columns, "output_columns")
        monitor = Monitor(self, _monitor_of(self.client._call("POST", MONITORS, json=body)))
        if upload:
            try:
                monitor.upload_reference(reference)
            except BaseException:
                # A monitor without the reference it was asked with would run against nothing.
                monitor.delete()
                raise
        return monitor

    def register_monitoring(
        self,
        model: Any,
        preprocess_reference: Optional[str],
        shap_reference: Optional[str],
        configuration_file: Union[PathLike, Mapping[str, Any]],
        preprocess_file: Optional[PathLike] = None,
        requirements_file: Optional[PathLike] = None,
        wait_complete: bool = False,
        *,
        name: Optional[str] = None,
        reference: Any = None,
        checks: Optional[Mapping[str, Any]] = None,
        scheduled: bool = True,
    ) -> "Monitor":
        """MLOps Codex's ``register_monitoring``: a monitor of ``model`` (a
        :class:`~forja.ForjaModel`, its id or name) set up by Codex's ``configuration.json``.

        - ``configuration_file``: the path of the JSON file, or its content as a dict:
          ``Period`` (``Day``, ``Week``, ``Month``; ``Year`` runs monthly), ``TrainData``
          (``MLOpsTrainingExecution``: a Forja training run's id, whose data becomes the
          reference; or ``TrainDateCol`` with ``TrainDateRef`` and a ``reference`` table: its rows
          dated before that day), ``InputCols`` (the features, which the model must have) and
          ``OutputCols``.
        - ``shap_reference``: Codex's ``get_shap(df, model_path)`` among the deployment's files,
          as ``"module:function"``, or a bare function name found in ``preprocess_file``'s module;
          ``None``: the shap package's tree or linear explainer.
        - ``preprocess_reference``, ``preprocess_file``, ``requirements_file``: Codex needed a
          preprocess function to parse the raw requests it stored. Forja logs each row's inputs
          as the model received them, so they are not needed; given, they change nothing (the
          SHAP function runs in the deployment's own environment, plus ``shap``).
        - ``reference``: where the training data is when ``TrainData`` names no training run, as
          in :meth:`register_monitor` (a DataFrame or file is uploaded with the configuration).
          With ``TrainDateCol`` and ``TrainDateRef`` it must be a lake table: its rows dated
          before ``TrainDateRef`` are the reference.
        - ``name`` (default ``<deployment>-monitoring``), ``checks`` and ``scheduled`` as in
          :meth:`register_monitor`.
        - ``wait_complete``: also run the monitor once now, over the last period, and wait for it.

        Raises :class:`~forja.InvalidArgument` naming the problem: ``InputCols`` the model does
        not have, a ``Period`` or ``TrainData`` Codex does not know.

        Example::

            monitor = monitoring.register_monitoring(
                model, preprocess_reference="parse", shap_reference="get_shap",
                configuration_file="configuration.json", preprocess_file="preprocess.py",
                requirements_file="requirements.txt",
            )
        """
        configuration = _configuration(configuration_file)
        deployment = _deployment_ref(model)
        all_checks = dict(checks or {})
        if shap_reference:
            function = shap_reference
            if ":" not in function:
                if preprocess_file is None:
                    raise ValueError(
                        f"shap_reference {shap_reference!r} names no module: write it 'module:function' (a .py of the deployment), or give preprocess_file"
                    )
                function = f"{Path(preprocess_file).stem}:{shap_reference}"
            all_checks["explanations"] = {**all_checks.get("explanations", {}), "function": function}
        body: JSON = {
            "name": name or f"{getattr(model, 'name', None) or deployment}-monitoring",
            "deployment": deployment,
            "configuration": configuration,
            "checks": all_checks,
            "scheduled": bool(scheduled),
        }
        if _is_upload(reference):
            # The training data travels with the configuration, so a refused file leaves no monitor.
            fields = {k: json.dumps(v) if isinstance(v, (dict, bool)) else v for k, v in body.items() if k != "configuration"}
            files = [("configuration", "configuration.json", lambda: io.BytesIO(json.dumps(configuration).encode())), _reference_part(reference)]
            created = self.client._multipart(f"{MONITORS}/codex", fields, files)
        else:
            if reference is not None:
                body["reference"] = _reference(reference)
            created = self.client._call("POST", f"{MONITORS}/codex", json=body)
        monitor = Monitor(self, _monitor_of(created))
        if wait_complete:
            monitor.run(wait=True)
        return monitor

    def get_monitor(self, monitor: Any) -> "Monitor":
        """The monitor with this id (or a :class:`Monitor`, read again). Raises
        :class:`~forja.NotFound` if the group has none.

        Example::

            monitor = monitoring.get_monitor("01JA…")
        """
        return Monitor(self, self.client._call("GET", _monitor_path(monitor)))

    def find_monitor(self, name: str) -> "Monitor":
        """The group's monitor called ``name``. Raises :class:`~forja.NotFound` if there is none.

        Example::

            monitor = monitoring.find_monitor("credit-drift")
        """
        for monitor in self.list_monitors():
            if monitor.name == name:
                return monitor
        raise NotFound(404, "NOT_FOUND", f"Monitor {name!r} does not exist in this group; list them with list_monitors()")

    def list_monitors(self) -> List["Monitor"]:
        """The group's monitors.

        Example::

            for monitor in monitoring.list_monitors():
                print(monitor.name, monitor.period, monitor.next_run_at)
        """
        return [Monitor(self, m) for m in self.client._call("GET", MONITORS)["items"]]

    def update_monitor(self, monitor: Any, **fields: Any) -> "Monitor":
        """Changes a monitor's settings (``description``, ``reference``, ``input_columns``,
        ``output_columns``, ``checks``, ``period``, ``scheduled``) and returns it.

        Example::

            monitoring.update_monitor(monitor, period="week", scheduled=False)
        """
        body: JSON = {}
        for key, value in fields.items():
            if key == "reference":
                body["reference"] = _reference(value)
            elif key == "period":
                body["period"] = _period(value)
            elif key in ("input_columns", "output_columns"):
                body[_camel(key)] = _columns(value, key)
            elif key in ("description", "checks", "scheduled"):
                body[key] = value
            else:
                raise TypeError(f"update_monitor() has no setting {key!r}: description, reference, input_columns, output_columns, checks, period, scheduled")
        return Monitor(self, self.client._call("PATCH", _monitor_path(monitor), json=body))

    def delete_monitor(self, monitor: Any) -> None:
        """Deletes a monitor, its runs and its alert rules.

        Example::

            monitoring.delete_monitor(monitor)
        """
        self.client._call("DELETE", _monitor_path(monitor))

    # -- runs -------------------------------------------------------------------------------

    def run(
        self,
        monitor: Any,
        wait: bool = True,
        start: Any = None,
        end: Any = None,
        *,
        now: bool = False,
        timeout: float = RUN_WAIT,
        verbose: Optional[bool] = None,
    ) -> "MonitorRun":
        """Runs a monitor now and returns the run: once it has ended with ``wait`` (the default),
        else at once, ``queued``.

        The window is ``start``–``end`` (``datetime``, or milliseconds since the epoch), by
        default the last full period; ``now=True``: the current period so far. Waiting long-polls the run's job like every other wait of
        the SDK; ``verbose=True`` prints its log as it comes. Raises :class:`MonitorRunFailed`
        with the server's reason, and :class:`~forja.ExecutionTimeout` after ``timeout``
        seconds (the run goes on: call ``run.wait_ready()`` again).

        Example::

            run = monitoring.run(monitor, start=datetime(2026, 12, 1), end=datetime(2026, 12, 8))
            print(run.metrics["drift.share"])
        """
        body: JSON = {"now": True} if now else {}
        if start is not None:
            body["from"] = _millis(start, "start")
        if end is not None:
            body["to"] = _millis(end, "end")
        run = MonitorRun(self, _run_of(self.client._call("POST", _monitor_path(monitor, "/runs"), json=body)))
        if wait:
            run.wait_ready(timeout=timeout, verbose=verbose)
        return run

    def runs(self, monitor: Any, page_size: int = 100) -> Pager:
        """Iterates over a monitor's runs, newest first, as :class:`MonitorRun` objects (without
        their reports: :meth:`MonitorRun.refresh` reads them).

        Example::

            for run in monitoring.runs(monitor):
                print(run.window_end, run.status, run.metrics.get("drift.share"))
        """
        path = _monitor_path(monitor, "/runs")

        def page(page_token: Optional[str]) -> JSON:
            answer = self.client._call("GET", path, params={"limit": page_size, "pageToken": page_token})
            return {**answer, "items": [MonitorRun(self, r) for r in answer["items"]]}

        return Pager(page)

    def get_run(self, monitor: Any, run_id: str) -> "MonitorRun":
        """One run of a monitor, with its drift, performance and explanation reports.

        Example::

            run = monitoring.get_run(monitor, "01JB…")
        """
        return MonitorRun(self, self.client._call("GET", _run_path(monitor, run_id)))

    def results(self, monitor: Any, wide: bool = False, metrics: Optional[Iterable[str]] = None) -> Any:
        """A monitor's runs' metrics as a pandas DataFrame, oldest run first.

        Long (the default): one row per run and metric, columns ``run_id``, ``window_start``,
        ``window_end`` (UTC timestamps), ``status``, ``metric``, ``value``. ``wide=True``: one row
        per run (``run_id``, ``window_start``, ``window_end``, ``status``), one column per
        metric. ``metrics`` keeps only those names (``*`` matches one name part:
        ``"drift.*.psi"``). Failed runs have no metrics: they show in the wide form only.

        Example::

            frame = monitoring.results(monitor, wide=True)
            frame.plot(x="window_end", y="drift.share")
        """
        pandas = _pandas()
        runs = sorted((r.data for r in self.runs(monitor)), key=lambda r: (r["windowEnd"], r["createdAt"]))
        wanted = _metric_matcher(metrics)
        rows = []
        for run in runs:
            for metric, value in sorted((run.get("metrics") or {}).items()):
                if wanted(metric):
                    rows.append((run["id"], run["windowStart"], run["windowEnd"], run["status"], metric, value))
        long = pandas.DataFrame(rows, columns=["run_id", "window_start", "window_end", "status", "metric", "value"])
        if not wide:
            return _timestamps(long, pandas)
        frame = pandas.DataFrame(
            [(r["id"], r["windowStart"], r["windowEnd"], r["status"]) for r in runs], columns=["run_id", "window_start", "window_end", "status"]
        )
        if len(long):
            values = long.pivot(index="run_id", columns="metric", values="value")
            values.columns.name = None
            frame = frame.merge(values, left_on="run_id", right_index=True, how="left")
        return _timestamps(frame, pandas)

    def metric_series(self, monitor: Any, metrics: Optional[Sequence[str]] = None) -> Dict[str, List[JSON]]:
        """The server's series of each metric over the monitor's runs: ``{name: [{"t", "value",
        "runId"}]}`` (``t`` is the window's end in ms), for ``metrics`` (names, or prefixes ending
        in ``*``: ``"drift.*"``) or all of them.

        Example::

            for point in monitoring.metric_series(monitor, ["drift.share"])["drift.share"]:
                print(point["t"], point["value"])
        """
        params = {"names": ",".join(metrics)} if metrics else None
        return self.client._call("GET", _monitor_path(monitor, "/metrics"), params=params)["metrics"]

    def drift_report(self, run: Any, monitor: Any = None) -> Any:
        """A run's drift per column as a pandas DataFrame, the frame :func:`forja.drift` gives:
        ``column``, ``kind``, ``method`` (the deciding test), ``statistic``, ``p_value``,
        ``threshold``, ``drifted``, ``missing_reference``, ``missing_current``, ``note``, then one
        column per method also computed; ``frame.attrs`` holds the dataset verdict
        (``drift_share``, ``dataset_drift``, ``reference_rows``, ``current_rows``).

        ``run`` is a :class:`MonitorRun`, or a run id with its ``monitor``.

        Example::

            report = monitoring.drift_report(run)
            print(report[report.drifted].column.tolist())
        """
        if not isinstance(run, MonitorRun):
            if monitor is None:
                raise ValueError("drift_report() needs the monitor with a run id: drift_report(run_id, monitor)")
            run = self.get_run(monitor, run)
        return run.drift_report()

    def download_report(self, run: Any, path: Optional[PathLike] = None, monitor: Any = None) -> str:
        """Saves a run's static HTML report (charts and tables, shareable as one file) and returns
        its path: ``path``, or ``monitor-<run id>.html`` in the current folder.

        Example::

            print(monitoring.download_report(run, "report.html"))
        """
        if isinstance(run, MonitorRun):
            monitor, run_id = run.monitor_id, run.id
        elif monitor is None:
            raise ValueError("download_report() needs the monitor with a run id: download_report(run_id, monitor=monitor)")
        else:
            run_id = run
        target = Path(path) if path is not None else Path.cwd() / f"monitor-{run_id}.html"
        with self.client._download(_run_path(monitor, run_id, "/report.html"), {}) as download:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                for chunk in download.chunks(1 << 16):
                    out.write(chunk)
        return str(target)

    # -- performance ---------------------------------------------------------------------

    def performance(
        self,
        label: Any = None,
        prediction: Any = None,
        score: Any = None,
        task: str = "classification",
        *,
        table: Optional[str] = None,
        filter: Optional[str] = None,
        prediction_column: str = "prediction",
        label_column: str = "label",
        score_column: Optional[str] = None,
        positive_label: Any = None,
        baseline: Optional[Mapping[str, float]] = None,
        tolerance: float = 0.1,
    ) -> JSON:
        """Performance computed by the server as a monitor run does, with no monitor: from
        ``label`` and ``prediction`` sequences (scikit-learn's ``y_true``, ``y_pred``; ``score``:
        the positive class's probability, for ROC AUC and log-loss), or from a lake ``table``'s
        ``label_column``, ``prediction_column`` and ``score_column``. ``task``:
        ``"classification"`` (accuracy, precision, recall, f1, roc_auc, log_loss) or
        ``"regression"`` (mae, rmse, r2). With a ``baseline`` (``{"accuracy": 0.91}``) the metrics
        worse by more than ``tolerance`` (a share) are listed under ``degraded``.

        Example::

            report = monitoring.performance(y_test, model.predict(X_test), baseline={"accuracy": 0.95})
            print(report["metrics"]["f1"], report["degraded"])
        """
        body: JSON = {"task": task, "tolerance": tolerance}
        if positive_label is not None:
            body["positiveLabel"] = _plain_json(positive_label)
        if baseline is not None:
            body["baseline"] = dict(baseline)
        if table is not None:
            body.update(table=table, predictionColumn=prediction_column, labelColumn=label_column)
            if score_column:
                body["scoreColumn"] = score_column
            if filter:
                body["filter"] = filter
        else:
            if label is None or prediction is None:
                raise ValueError("performance() needs label= and prediction= (or table=)")
            body["label"], body["prediction"] = _plain_json(list(label)), _plain_json(list(prediction))
            if len(body["label"]) != len(body["prediction"]):
                raise ValueError(f"label has {len(body['label'])} values and prediction {len(body['prediction'])}: give one prediction per label")
            if score is not None:
                body["score"] = _plain_json(list(score))
        return self.client._call("POST", f"{API}/performance", json=body)

    # -- alerts -----------------------------------------------------------------------------

    def add_alert_rule(
        self,
        monitor: Any,
        name: str,
        metric: str,
        operator: str,
        threshold: float,
        consecutive: int = 1,
        severity: str = "warning",
        enabled: bool = True,
    ) -> JSON:
        """Adds an alert rule to a monitor: it fires when ``metric`` (a flat run metric, ``*``
        matching one name part: ``"drift.*.psi"``) is ``operator`` (``>``, ``>=``, ``<``, ``<=``)
        ``threshold`` in ``consecutive`` runs in a row. Alerts go to the group's webhooks
        (``monitor.alert.fired``) and the UI. Returns the rule.

        Example::

            monitoring.add_alert_rule(monitor, "accuracy fell", "performance.accuracy", "<", 0.8, severity="critical")
        """
        if operator not in OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(OPERATORS)} (got {operator!r})")
        body = {
            "name": name,
            "metric": metric,
            "operator": operator,
            "threshold": threshold,
            "consecutive": consecutive,
            "severity": severity,
            "enabled": enabled,
        }
        return self.client._call("POST", _monitor_path(monitor, "/alert-rules"), json=body)

    def alert_rules(self, monitor: Any) -> List[JSON]:
        """A monitor's alert rules.

        Example::

            print([rule["metric"] for rule in monitoring.alert_rules(monitor)])
        """
        return self.client._call("GET", _monitor_path(monitor, "/alert-rules"))["items"]

    def get_alert_rule(self, monitor: Any, rule: Any) -> JSON:
        """One alert rule of a monitor (a rule dict or its id), as the server has it now.

        Example::

            print(monitoring.get_alert_rule(monitor, rule_id)["threshold"])
        """
        return self.client._call("GET", _rule_path(monitor, rule))

    def update_alert_rule(self, monitor: Any, rule: Any, **fields: Any) -> JSON:
        """Changes an alert rule: ``name``, ``metric``, ``operator``, ``threshold``,
        ``consecutive``, ``severity``, ``enabled``. A new condition starts its breach count over.

        Example::

            monitoring.update_alert_rule(monitor, rule, threshold=0.4, enabled=False)
        """
        if "operator" in fields and fields["operator"] not in OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(OPERATORS)} (got {fields['operator']!r})")
        return self.client._call("PATCH", _rule_path(monitor, rule), json=fields)

    def delete_alert_rule(self, monitor: Any, rule: Any) -> None:
        """Deletes an alert rule (a rule dict or its id); its past alerts stay in the history.

        Example::

            monitoring.delete_alert_rule(monitor, rule)
        """
        self.client._call("DELETE", _rule_path(monitor, rule))

    def alerts(self, status: Optional[str] = None, monitor: Any = None, page_size: int = 100) -> Pager:
        """Iterates over the group's alerts, newest first: ``status`` ``"open"``,
        ``"acknowledged"`` or ``"resolved"``, of one ``monitor`` (a :class:`Monitor`, id or name).

        Example::

            for alert in monitoring.alerts(status="open"):
                print(alert["monitorName"], alert["metric"], alert["value"], alert["threshold"])
        """
        monitor_key = monitor.id if isinstance(monitor, Monitor) else monitor

        def page(page_token: Optional[str]) -> JSON:
            return self.client._call("GET", ALERTS, params={"status": status, "monitor": monitor_key, "limit": page_size, "pageToken": page_token})

        return Pager(page)

    def get_alert(self, alert: Any) -> JSON:
        """One alert (a dict or its id), as it is now.

        Example::

            print(monitoring.get_alert(alert_id)["status"])
        """
        return self.client._call("GET", _alert_path(alert, ""))

    def acknowledge(self, alert: Any, note: Optional[str] = None) -> JSON:
        """Marks an alert (a dict or its id) as seen by you; it stays until resolved.

        Example::

            monitoring.acknowledge(alert, note="looking into the new traffic source")
        """
        return self.client._call("POST", _alert_path(alert, "/acknowledge"), json=_note(note))

    def resolve(self, alert: Any, note: Optional[str] = None) -> JSON:
        """Closes an alert (a dict or its id). A later run that breaches the rule again opens a
        new one; a run back within the rule resolves it by itself.

        Example::

            monitoring.resolve(alert, note="retrained on December's data")
        """
        return self.client._call("POST", _alert_path(alert, "/resolve"), json=_note(note))


class Monitor:
    """One monitor: its settings as attributes and the calls of :class:`MonitoringClient` for it.

    Attributes: ``id``, ``name``, ``group``, ``description``, ``target`` (``{"deployment"}`` or
    ``{"table", "timeColumn"}``), ``deployment_id``, ``reference``, ``input_columns``,
    ``output_columns``, ``checks``, ``period``, ``scheduled``, ``next_run_at``, ``last_run``,
    ``created_at``, ``updated_at``. ``data`` is the server's JSON.

    Example::

        monitor = monitoring.find_monitor("credit-drift")
        run = monitor.run()
        print(monitor.results(wide=True).tail())
    """

    def __init__(self, monitoring: MonitoringClient, data: JSON) -> None:
        self.monitoring = monitoring
        self.data = data

    id = _Field[str]("id")
    name = _Field[str]("name")
    group = _Field[str]("group")
    description = _Field[str]("description", "")
    target = _Field[JSON]("target")
    deployment_id = _Field[Optional[str]]("deploymentId", None)
    reference = _Field[Optional[JSON]]("reference", None)
    input_columns = _Field[Optional[List[str]]]("inputColumns", None)
    output_columns = _Field[Optional[List[str]]]("outputColumns", None)
    checks = _Field[JSON]("checks", {})
    period = _Field[str]("period")
    scheduled = _Field[bool]("scheduled", True)
    next_run_at = _Field[Optional[int]]("nextRunAt", None)
    last_run = _Field[Optional[JSON]]("lastRun", None)
    created_at = _Field[Optional[int]]("createdAt", None)
    updated_at = _Field[Optional[int]]("updatedAt", None)

    def __repr__(self) -> str:
        return f"Monitor(name={self.name!r}, id={self.id!r}, period={self.period!r})"

    def refresh(self) -> "Monitor":
        """Reads the monitor again and returns it."""
        self.data = self.monitoring.get_monitor(self).data
        return self

    def update(self, **fields: Any) -> "Monitor":
        """Changes its settings (see :meth:`MonitoringClient.update_monitor`) and returns it."""
        self.data = self.monitoring.update_monitor(self, **fields).data
        return self

    def delete(self) -> None:
        """Deletes the monitor, its runs and its alert rules."""
        self.monitoring.delete_monitor(self)

    def upload_reference(self, reference: Any) -> "Monitor":
        """Makes a pandas DataFrame, or a ``.parquet``/``.csv`` file, this monitor's reference
        data (uploaded; replaces the reference it had) and returns the monitor.

        Example::

            monitor.upload_reference(X_train)
        """
        if not _is_upload(reference):
            raise TypeError(f"upload_reference() takes a pandas DataFrame or a .parquet/.csv file's path, not {type(reference).__name__}")
        answer = self.monitoring.client._multipart(_monitor_path(self, "/reference"), {}, [_reference_part(reference)])
        self.data = _monitor_of(answer)
        return self

    def run(
        self, wait: bool = True, start: Any = None, end: Any = None, *, now: bool = False, timeout: float = RUN_WAIT, verbose: Optional[bool] = None
    ) -> "MonitorRun":
        """Runs it now (see :meth:`MonitoringClient.run`)."""
        return self.monitoring.run(self, wait, start, end, now=now, timeout=timeout, verbose=verbose)

    def runs(self) -> Pager:
        """Its runs, newest first."""
        return self.monitoring.runs(self)

    def results(self, wide: bool = False, metrics: Optional[Iterable[str]] = None) -> Any:
        """Its runs' metrics as a DataFrame (see :meth:`MonitoringClient.results`)."""
        return self.monitoring.results(self, wide, metrics)

    def add_alert_rule(self, name: str, metric: str, operator: str, threshold: float, consecutive: int = 1, severity: str = "warning") -> JSON:
        """Adds an alert rule (see :meth:`MonitoringClient.add_alert_rule`)."""
        return self.monitoring.add_alert_rule(self, name, metric, operator, threshold, consecutive, severity)

    def alerts(self, status: Optional[str] = None) -> Pager:
        """Its alerts, newest first."""
        return self.monitoring.alerts(status, self)


class MonitorRun(WaitsOnJob):
    """One run of a monitor: a window of the target compared with the reference.

    Attributes: ``id``, ``monitor_id``, ``status`` (``queued``, ``running``, ``succeeded``,
    ``failed``), ``trigger`` (``manual``, ``schedule``), ``window_start``, ``window_end``,
    ``current_rows``, ``metrics`` (the flat ``{name: value}`` map), ``drift``, ``performance``,
    ``explanations`` (the server's reports; ``None`` in listings: :meth:`refresh` reads them),
    ``error``, ``job_id``. ``data`` is the server's JSON.

    Example::

        run = monitor.run()
        print(run.performance["metrics"], run.drift_report().query("drifted").column.tolist())
    """

    def __init__(self, monitoring: MonitoringClient, data: JSON) -> None:
        self.monitoring = monitoring
        self.data = data

    id = _Field[str]("id")
    monitor_id = _Field[str]("monitorId")
    status = _Field[str]("status")
    trigger = _Field[str]("trigger", "manual")
    window_start = _Field[int]("windowStart")
    window_end = _Field[int]("windowEnd")
    current_rows = _Field[Optional[int]]("currentRows", None)
    drift = _Field[Optional[JSON]]("drift", None)
    performance = _Field[Optional[JSON]]("performance", None)
    explanations = _Field[Optional[JSON]]("explanations", None)
    error = _Field[Optional[str]]("error", None)
    job_id = _Field[Optional[str]]("jobId", None)

    @property
    def metrics(self) -> Dict[str, float]:
        return dict(self.data.get("metrics") or {})

    def __repr__(self) -> str:
        return f"MonitorRun(id={self.id!r}, monitor={self.monitor_id!r}, status={self.status!r})"

    @property
    def group(self) -> Optional[str]:
        return self.monitoring.client.group

    @property
    def _client(self) -> Client:
        return self.monitoring.client

    def refresh(self) -> "MonitorRun":
        """Reads the run again, with its reports, and returns it."""
        self.data = self._client._call("GET", _run_path(self.monitor_id, self.id))
        return self

    def wait_ready(self, timeout: float = RUN_WAIT, verbose: Optional[bool] = None) -> "MonitorRun":
        """Waits for the run to end and returns it, ``succeeded``, with its reports.

        Raises :class:`MonitorRunFailed` with the server's reason if it failed, and
        :class:`~forja.ExecutionTimeout` after ``timeout`` seconds (the run goes on).

        Example::

            run = monitor.run(wait=False)
            run.wait_ready(verbose=True)
        """
        self._wait_on_job(timeout, self.monitoring.verbose if verbose is None else verbose)
        if self.status != "succeeded":
            raise self._failure(self.error or f"it ended {self.status}; see its log (forja jobs logs {self.job_id})", self.job_id)
        if self.drift is None and self.performance is None and self.explanations is None:
            self.refresh()  # a listing's copy: read the reports
        return self

    _PENDING = PENDING

    def _what(self) -> str:
        return f"Monitor run {self.id}"

    def _failure(self, message: str, job_id: Optional[str]) -> ForjaError:
        return MonitorRunFailed(message, self.id, job_id, self)

    def _timed_out(self, job_id: str, timeout: float) -> ForjaError:
        return ExecutionTimeout(self._goes_on(job_id, timeout), self.id, job_id)

    def drift_report(self) -> Any:
        """Its drift per column as a DataFrame (see :meth:`MonitoringClient.drift_report`)."""
        if self.drift is None:
            self.refresh()
        if self.drift is None:
            raise ForjaError(f"Monitor run {self.id} has no drift report ({self.status}{': ' + self.error if self.error else ''})")
        frame = drift_result(self.drift, as_frame=True)
        frame.attrs.update(
            drift_share=self.drift["driftShare"],
            dataset_drift=self.drift["datasetDrift"],
            reference_rows=self.drift["referenceRows"],
            current_rows=self.drift["currentRows"],
        )
        return frame

    @property
    def drifted_columns(self) -> List[str]:
        """The columns whose drift test flagged them."""
        if self.drift is None:
            self.refresh()
        return [c["column"] for c in (self.drift or {}).get("columns", []) if c.get("drifted")]

    def download_report(self, path: Optional[PathLike] = None) -> str:
        """Saves its static HTML report and returns the path (see :meth:`MonitoringClient.download_report`)."""
        return self.monitoring.download_report(self, path)


# -- helpers --------------------------------------------------------------------------------


def _monitor_path(monitor: Any, suffix: str = "") -> str:
    monitor_id = monitor.id if isinstance(monitor, Monitor) else monitor
    return f"{MONITORS}/{_segment(monitor_id, 'monitor id')}{suffix}"


def _run_path(monitor: Any, run_id: str, suffix: str = "") -> str:
    return _monitor_path(monitor, f"/runs/{_segment(run_id, 'run id')}{suffix}")


def _rule_path(monitor: Any, rule: Any) -> str:
    rule_id = rule["id"] if isinstance(rule, Mapping) else rule
    return _monitor_path(monitor, f"/alert-rules/{_segment(rule_id, 'rule id')}")


def _alert_path(alert: Any, suffix: str) -> str:
    alert_id = alert["id"] if isinstance(alert, Mapping) else alert
    return f"{ALERTS}/{_segment(alert_id, 'alert id')}{suffix}"


def _note(note: Optional[str]) -> JSON:
    return {"note": note} if note else {}


def _monitor_of(answer: JSON) -> JSON:
    # Creations answer {"monitor": {...}} like deployments do, reads the monitor itself.
    return answer["monitor"] if isinstance(answer.get("monitor"), dict) else answer


def _run_of(answer: JSON) -> JSON:
    return answer["run"] if isinstance(answer.get("run"), dict) else answer


def _deployment_ref(deployment: Any) -> str:
    """A ForjaModel's id, or the id or name given."""
    value = getattr(deployment, "id", deployment)
    if not isinstance(value, str) or not value:
        raise TypeError(f"deployment must be a forja.ForjaModel or a deployment's id or name, not {type(deployment).__name__}")
    return value


def _period(period: str) -> str:
    value = (period or "").strip().lower()
    if value not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)} (got {period!r})")
    return value


def _columns(columns: Any, what: str) -> List[str]:
    if isinstance(columns, str) or not all(isinstance(c, str) and c for c in columns):
        raise TypeError(f"{what} must be a list of column names")
    return list(columns)


def _is_upload(reference: Any) -> bool:
    if _is_dataframe(reference):
        return True
    return isinstance(reference, (str, os.PathLike)) and Path(reference).suffix.lower() in (".parquet", ".csv")


def _reference_part(reference: Any) -> Any:
    """A DataFrame or a .parquet/.csv file as the multipart "data" file the server takes."""
    if isinstance(reference, (str, os.PathLike)):
        file = Path(reference)
        if not file.is_file():
            raise FileNotFoundError(f"reference: {file} is not a file")
        return ("data", file.name, lambda: file.open("rb"))
    content = _to_parquet(reference)
    return ("data", "reference.parquet", lambda: io.BytesIO(content))


def _reference(reference: Any) -> JSON:
    if isinstance(reference, Mapping):
        if "kind" not in reference:
            raise ValueError(
                'a reference dict names its kind: {"kind": "table", "table": …}, {"kind": "run", "runId": …} or {"kind": "training", "trainingId": …}'
            )
        return dict(reference)
    if isinstance(reference, str):
        return {"kind": "table", "table": reference}
    raise TypeError(f"reference must be a lake table's name, a DataFrame, a .parquet/.csv file or a dict, not {type(reference).__name__}")


def _configuration(configuration: Union[PathLike, Mapping[str, Any]]) -> JSON:
    if isinstance(configuration, Mapping):
        return dict(configuration)
    file = Path(configuration)
    if not file.is_file():
        raise FileNotFoundError(f"configuration_file: {file} is not a file")
    try:
        loaded = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"configuration_file {file} is not JSON: {err}") from None
    if not isinstance(loaded, dict):
        raise ValueError(f"configuration_file {file} must hold a JSON object (Period, TrainData, InputCols, OutputCols)")
    return loaded


def _millis(value: Any, what: str) -> int:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)  # naive times are read as UTC, as the server's are
        return int(value.timestamp() * 1000)
    if hasattr(value, "to_pydatetime"):
        return _millis(value.to_pydatetime(), what)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{what} must be a datetime or milliseconds since the epoch, not {type(value).__name__}")


def _metric_matcher(metrics: Optional[Iterable[str]]) -> Any:
    if metrics is None:
        return lambda name: True
    patterns = [m.split(".") for m in metrics]

    def matches(name: str) -> bool:
        parts = name.split(".")
        return any(len(p) == len(parts) and all(a in ("*", b) for a, b in zip(p, parts)) for p in patterns)

    return matches


def _timestamps(frame: Any, pandas: Any) -> Any:
    for column in ("window_start", "window_end"):
        frame[column] = pandas.to_datetime(frame[column], unit="ms", utc=True)
    return frame


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as err:
        raise ImportError(f'forja\'s monitoring results are pandas frames: pip install "forja[pandas]" ({err})') from err
    return pandas
