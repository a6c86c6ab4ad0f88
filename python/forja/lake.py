"""Lake tables and batch scoring with DHuolib's ``GenericRepository`` method names.

The lake holds your group's tables on the server (DuckDB, or PostgreSQL when the server is set up
with one). Pandas frames travel as Parquet both ways, so types survive the trip (integers stay
integers, timestamps stay timestamps, ``None`` stays null) and big frames are not turned into
JSON. A versioned write (``is_update_version=True``) stamps its rows with ``VERSION`` (the
table's newest + 1, given out atomically by the server) and ``CREATED_AT`` (server time, UTC),
which is how DHuolib's batch scripts keep each day's predictions apart.

Scoring runs on the server, in the registered model's own Python environment: your process
needs pandas and pyarrow, not the model's libraries. :meth:`GenericRepository.prediction_batch_with_dataframe`
scores a frame you hold; :meth:`GenericRepository.batch_predict_table` scores a whole table
into a versioned output table as a server job, without the rows ever coming to you.

Needs ``pip install "forja[lake]"`` (pandas and pyarrow).

Differences from DHuolib, on purpose:

- :meth:`~GenericRepository.create_table_by_dataframe` raises :class:`~forja.Conflict` when the
  table exists (DHuolib returned a message string), so a script cannot go on as if it wrote.
- ``if_exists="replace"`` without ``force_replace_delete_itens_in_table=True`` raises
  ``ValueError`` before sending anything: it never asks on the terminal with ``input()``,
  which would hang a scheduled run. The server refuses such a replace too.
- Errors raise typed exceptions (:class:`~forja.NotFound` for an unknown table,
  :class:`~forja.InvalidArgument` for a bad filter or rows that do not match the table's
  columns, listing every difference) instead of returning ``{"error": …}`` dicts.
- ``filter_clause`` is a small grammar the server parses and binds (comparisons, ``AND``/``OR``/
  ``NOT``, ``IN``, ``IS [NOT] NULL``, ``LIKE``, ``BETWEEN``), never SQL pasted into a query:
  ``"x = 1; DROP TABLE t"`` is an :class:`~forja.InvalidArgument`, not a dropped table.
- :meth:`~GenericRepository.to_dataframe` also takes ``version`` (a ``VERSION`` or
  ``"latest"``), ``order_by`` and ``limit``.
- :meth:`~GenericRepository.prediction_batch_with_dataframe` scores on the server with the
  registered model (``models:/name/stage``) instead of downloading a pickle into your process;
  ``batch_params`` may name the model by ``stage``, ``alias`` or ``version``.

Example::

    import forja

    repo = forja.GenericRepository()          # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
    repo.create_table_by_dataframe("iris_features", features)
    df = repo.to_dataframe("iris_features", filter_clause="petal_width > 0.5", list_columns=["id", "petal_width"])
    df["predict"] = repo.prediction_batch_with_dataframe({"modelname": "iris", "stage": "Production"}, features)
    repo.update_table_by_dataframe("iris_scores", df, is_update_version=True)
    print(repo.describe_table("iris_scores")["versions"][0]["version"])   # 1, then 2 the next day…
"""

from __future__ import annotations

import io
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ._jobs import RecordWait, job_log
from .client import API, JSON, Client, ClientOwner, _segment
from .exceptions import Conflict, ExecutionFailed, ExecutionTimeout, ForjaError

__all__ = ["GenericRepository", "BatchPredictionFailed"]

LAKE = f"{API}/lake"
TABLES = f"{LAKE}/tables"
BATCH_PREDICTIONS = f"{LAKE}/batch-predictions"
PARQUET = "application/vnd.apache.parquet"
BATCH_PENDING = ("queued", "running")
# Uploads and downloads of whole tables take longer than an ordinary call.
TRANSFER_TIMEOUT = 600.0
# The first scoring with a model builds its environment on the server: minutes, not seconds.
PREDICT_TIMEOUT = 1800.0
BATCH_WAIT = 3600.0


class BatchPredictionFailed(ExecutionFailed):
    """A batch prediction (:meth:`GenericRepository.batch_predict_table`) ended ``failed`` or
    ``cancelled``. Also an :class:`~forja.ExecutionFailed`.

    Attributes:
        message: the server's reason, e.g. the end of the model's traceback or the rows'
            mismatch with the output table.
        job_id: the job (also ``execution_id``), whose log
            :meth:`GenericRepository.batch_prediction_logs` returns.
        prediction: the batch prediction's last state (``None`` after unpickling).

    Example::

        try:
            repo.batch_predict_table("features", "models:/churn/Production", "scores")
        except forja.BatchPredictionFailed as err:
            print(err.message)
            print(*repo.batch_prediction_logs(err.job_id)[-20:], sep="\\n")
    """

    _KIND = "Batch prediction"

    def __init__(self, message: str, job_id: Optional[str] = None, prediction: Any = None) -> None:
        super().__init__(message, job_id, None, job_id, prediction)
        self.prediction = prediction

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.message, self.job_id))


class GenericRepository(ClientOwner):
    """Reads and writes the group's lake tables as pandas frames and scores them with registered
    models, with DHuolib's ``GenericRepository`` method names.

    Pass a :class:`~forja.Client` to share its connection and login, or the URL, token and
    group, which fall back to ``FORJA_URL``, ``FORJA_TOKEN`` and ``FORJA_GROUP``. Tables belong
    to the group the client acts in.

    Example::

        import forja

        with forja.GenericRepository("http://127.0.0.1:5050", token="fjp_…", group="credit") as repo:
            print([t["name"] for t in repo.list_tables()])
    """

    def __init__(
        self,
        client: Union[Client, str, None] = None,
        token: Optional[str] = None,
        group: Optional[str] = None,
        **client_options: Any,
    ) -> None:
        super().__init__(client, token, group, **client_options)

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client._call(method, path, **kwargs)

    def _raw(self, path: str, content: bytes, content_type: str, params: Optional[Dict[str, Any]] = None, timeout: float = TRANSFER_TIMEOUT) -> Any:
        """POSTs ``content`` as it is (Parquet rows, or JSON that asks for a file back): the
        JSON-only client methods cannot send or take either."""
        return self.client._core.post_bytes(
            path, token=self.client.token, group=self.client.group, content=content, content_type=content_type, params=params, timeout=timeout
        )

    def _table(self, name: str, suffix: str = "") -> str:
        return f"{TABLES}/{_segment(name, 'table_name')}{suffix}"

    def _write(self, table_name: str, dataframe: Any, params: Dict[str, Any]) -> JSON:
        body = _to_parquet(dataframe)
        return self._raw(self._table(table_name, "/rows"), body, PARQUET, params=params)

    # -- writing ----------------------------------------------------------------------------

    def create_table_by_dataframe(self, table_name: str, df: Any) -> JSON:
        """Creates ``table_name`` from a pandas frame: its columns and types become the
        table's. Returns ``{"number_lines_inserted": n, "table_name": name}``, as DHuolib.

        Raises :class:`~forja.Conflict` if the table exists (add rows with
        :meth:`update_table_by_dataframe`), :class:`~forja.InvalidArgument` for a bad table
        name or a column type the lake does not hold (lists, dicts: turn them into strings).

        Example::

            import pandas as pd

            df = pd.DataFrame({"id": [1, 2], "income": [1200.0, 8000.0], "churn": [True, False]})
            repo.create_table_by_dataframe("customers", df)   # {"number_lines_inserted": 2, "table_name": "customers"}
        """
        try:
            written = self._write(table_name, df, {"mode": "fail"})
        except Conflict as err:
            raise Conflict(
                err.status,
                err.code,
                f"Table {table_name!r} already exists: add rows with update_table_by_dataframe({table_name!r}, df), "
                f"or replace them with update_table_by_dataframe({table_name!r}, df, if_exists='replace', force_replace_delete_itens_in_table=True).",
                err.details,
                err.request_id,
            ) from None
        return {"number_lines_inserted": written["rowsWritten"], "table_name": written["table"]}

    def update_table_by_dataframe(
        self,
        table_name: str,
        dataframe: Any,
        if_exists: str = "append",
        is_update_version: bool = False,
        force_replace_delete_itens_in_table: bool = False,
        model_name: Optional[str] = None,
        model_version: Optional[str] = None,
    ) -> JSON:
        """Writes a pandas frame's rows to ``table_name`` (made from the frame if missing).

        ``if_exists="append"`` adds the rows; ``"replace"`` deletes every row first (the
        table's columns stay) and needs ``force_replace_delete_itens_in_table=True``: without
        it this raises ``ValueError`` and sends nothing. The frame must have the table's
        columns with types that fit, else :class:`~forja.InvalidArgument` lists every
        difference (missing columns, extra columns, types).

        ``is_update_version=True`` stamps the rows with ``VERSION`` (the table's newest + 1,
        given out atomically, so two writers never share one) and ``CREATED_AT`` (server time,
        UTC); ``model_name`` and ``model_version`` add ``MODEL_NAME`` and ``MODEL_VERSION``
        columns. The frame's own ``VERSION``/``CREATED_AT`` columns, if any, are replaced.

        Returns ``{"number_lines_inserted", "table_name", "version", "created"}``; ``version``
        is ``None`` for an unversioned write.

        Example::

            scores["predict"] = predictions
            result = repo.update_table_by_dataframe("churn_scores", scores, is_update_version=True)
            print(result["version"])   # 1 the first day, 2 the next…
        """
        mode = str(if_exists).strip().lower()
        if mode not in ("append", "replace"):
            raise ValueError(f"if_exists must be 'append' or 'replace' (got {if_exists!r})")
        if mode == "replace" and not force_replace_delete_itens_in_table:
            raise ValueError(
                f"if_exists='replace' deletes every row of {table_name!r} before writing: "
                "pass force_replace_delete_itens_in_table=True to confirm it (nothing was sent)"
            )
        if (model_name or model_version) and not is_update_version:
            raise ValueError("model_name and model_version go with is_update_version=True")
        params: Dict[str, Any] = {"mode": mode}
        if mode == "replace":
            params["confirmReplace"] = True
        if is_update_version:
            params["versioned"] = True
        if model_name:
            params["modelName"] = model_name
        if model_version:
            params["modelVersion"] = str(model_version)
        written = self._write(table_name, dataframe, params)
        return {
            "number_lines_inserted": written["rowsWritten"],
            "table_name": written["table"],
            "version": written.get("version"),
            "created": written.get("created", False),
        }

    # -- reading ----------------------------------------------------------------------------

    def to_dataframe(
        self,
        table_name: str,
        filter_clause: Optional[str] = None,
        list_columns: Optional[Sequence[str]] = None,
        version: Union[int, str, None] = None,
        order_by: Union[str, Mapping[str, Any], None] = None,
        limit: Optional[int] = None,
    ) -> Any:
        """Reads a table into a pandas frame, in the order the rows were written.

        ``filter_clause`` keeps the rows it matches: comparisons (``= != <> < <= > >=``),
        ``AND``/``OR``/``NOT``, parentheses, ``IN (…)``, ``IS [NOT] NULL``, ``[NOT] LIKE``,
        ``BETWEEN a AND b``; strings in 'single quotes', odd column names in "double quotes".
        ``list_columns`` picks columns, ``version`` one ``VERSION`` of a versioned table (or
        ``"latest"``), ``order_by`` a column to sort by (``"income"``, ``"income desc"`` or
        ``{"column": "income", "desc": True}``) and ``limit`` caps the rows.

        The rows come as one Parquet file, not JSON, so types come back as they were written.
        Raises :class:`~forja.NotFound` for an unknown table and
        :class:`~forja.InvalidArgument` for a bad filter or an unknown column.

        Example::

            df = repo.to_dataframe("churn_scores", filter_clause="predict = 1 AND region IN ('N', 'S')",
                                   list_columns=["id", "predict"], version="latest")
        """
        body: Dict[str, Any] = {"format": "parquet"}
        if filter_clause is not None and str(filter_clause).strip():
            body["filter"] = filter_clause
        if list_columns is not None:
            if isinstance(list_columns, str):
                list_columns = [list_columns]
            body["columns"] = list(list_columns)
        if version is not None:
            body["version"] = _version(version)
        if order_by is not None:
            body["orderBy"] = [_order(order_by)]
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(f"limit must be a positive whole number (got {limit!r})")
            body["limit"] = limit
        content = json.dumps(body).encode("utf-8")
        data = self._raw(self._table(table_name, "/query"), content, "application/json")
        if not isinstance(data, (bytes, bytearray)):
            raise ForjaError(f"Expected a Parquet file reading {table_name!r}, got JSON: is the server older than this SDK?")
        return _from_parquet(data)

    def list_tables(self) -> List[JSON]:
        """The group's tables: ``[{"name", "group", "rowCount", "columnCount", "latestVersion",
        "createdBy", "createdAt", "updatedAt"}]``.

        Example::

            for t in repo.list_tables():
                print(t["name"], t["rowCount"], t["latestVersion"])
        """
        return self._call("GET", TABLES)["items"]

    def describe_table(self, table_name: str) -> JSON:
        """A table with its ``columns`` (``[{"name", "type"}]``), ``sizeBytes``, ``engine`` and
        ``versions`` (newest first: ``[{"version", "rows", "createdAt", "modelName",
        "modelVersion"}]``). Raises :class:`~forja.NotFound` for an unknown table.

        Example::

            info = repo.describe_table("churn_scores")
            print([c["name"] for c in info["columns"]], info["versions"][:1])
        """
        return self._call("GET", self._table(table_name))

    def rename_table(self, table_name: str, new_name: str) -> JSON:
        """Renames a table (editors) and returns it as :meth:`describe_table` does.

        Example::

            repo.rename_table("scores_tmp", "scores")
        """
        return self._call("PATCH", self._table(table_name), json={"name": new_name})

    def drop_table(self, table_name: str) -> None:
        """Drops a table and its rows (editors; the audit log records it). Raises
        :class:`~forja.NotFound` if there is no such table.

        Example::

            repo.drop_table("scratch")
        """
        self._call("DELETE", self._table(table_name))

    # -- scoring ----------------------------------------------------------------------------

    def prediction_batch_with_dataframe(self, batch_params: Mapping[str, Any], df: Any, timeout: float = PREDICT_TIMEOUT) -> Any:
        """Scores a pandas frame with a registered model and returns the predictions as a numpy
        array: 1-D for a model with one output, one column per output otherwise.

        ``batch_params`` is DHuolib's dict: ``modelname`` with ``stage`` (``models:/name/stage``),
        or with ``alias`` (``models:/name@alias``) or ``version`` (``models:/name/3``); or a
        ``model_uri`` of that form. DHuolib's other keys (``experiment_name``, ``type_model``,
        ``run_id``, ``batch_model_dir``) are accepted and not needed.

        The scoring runs on the server in the model's own environment; the first call with a
        model version builds that environment, which can take a minute or two, hence the long
        ``timeout``. Raises :class:`~forja.NotFound` for an unknown model or stage and
        :class:`~forja.ModelError` when the model itself fails (its message has the end of the
        traceback).

        Example::

            params = {"modelname": "churn", "stage": "Production", "experiment_name": "churn", "type_model": "sklearn"}
            df["predict"] = repo.prediction_batch_with_dataframe(params, df)
        """
        uri = _model_uri(batch_params)
        body = _to_parquet(df)
        data = self._raw(f"{LAKE}/predict", body, PARQUET, params={"model": uri}, timeout=timeout)
        if not isinstance(data, (bytes, bytearray)):
            raise ForjaError(f"Expected Parquet predictions from {uri}, got JSON: is the server older than this SDK?")
        frame = _from_parquet(data)
        if frame.shape[1] == 1:
            return frame.iloc[:, 0].to_numpy()
        return frame.to_numpy()

    def batch_predict_table(
        self,
        source_table: str,
        model_uri: str,
        output_table: str,
        filter_clause: Optional[str] = None,
        keep_columns: Optional[Sequence[str]] = None,
        prediction_column: str = "PREDICT",
        chunk_rows: Optional[int] = None,
        wait: bool = True,
        timeout: float = BATCH_WAIT,
    ) -> JSON:
        """Scores a whole table (or the rows ``filter_clause`` keeps) with a registered model on
        the server, as a job, and appends the rows with their predictions to ``output_table``
        as its next ``VERSION``, with ``MODEL_NAME`` and ``MODEL_VERSION`` (the output table is
        made if missing). The rows never come to this process; memory on the server follows
        ``chunk_rows``, not the table's size.

        ``model_uri`` is ``models:/name/Stage``, ``models:/name@alias`` or ``models:/name/3``
        (a DHuolib ``batch_params`` dict works too). ``keep_columns`` are the source columns
        copied next to the prediction (default: all).

        Returns the batch prediction: ``{"jobId", "status", "progress": {"done", "total"},
        "result": {"version", "rowsWritten", "modelName", "modelVersion"}, "error", …}``. With
        ``wait=True`` (the default) it returns once the job has succeeded, raises
        :class:`BatchPredictionFailed` if it failed or was cancelled, and
        :class:`~forja.ExecutionTimeout` after ``timeout`` seconds (the job goes on). A bad
        filter, column or model is refused at once with :class:`~forja.InvalidArgument` or
        :class:`~forja.NotFound`.

        Example::

            done = repo.batch_predict_table("customers", "models:/churn/Production", "churn_scores",
                                            filter_clause="active = TRUE", keep_columns=["id"])
            print(done["result"]["version"], done["result"]["rowsWritten"])
        """
        uri = _model_uri(model_uri)
        body: Dict[str, Any] = {"sourceTable": source_table, "model": uri, "outputTable": output_table, "predictionColumn": prediction_column}
        if filter_clause is not None and str(filter_clause).strip():
            body["filter"] = filter_clause
        if keep_columns is not None:
            body["keepColumns"] = [keep_columns] if isinstance(keep_columns, str) else list(keep_columns)
        if chunk_rows is not None:
            body["chunkRows"] = chunk_rows
        prediction = self._call("POST", BATCH_PREDICTIONS, json=body)
        if not wait:
            return prediction
        return self.wait_batch_prediction(prediction, timeout=timeout)

    def get_batch_prediction(self, job_id: str) -> JSON:
        """A batch prediction as the server describes it now (status, progress, result, error).

        Example::

            print(repo.get_batch_prediction(job_id)["progress"])   # {"done": 50000, "total": 120000}
        """
        return self._call("GET", f"{BATCH_PREDICTIONS}/{_segment(job_id, 'job id')}")

    def list_batch_predictions(self) -> List[JSON]:
        """The group's batch predictions, newest first.

        Example::

            failed = [p for p in repo.list_batch_predictions() if p["status"] == "failed"]
        """
        return self._call("GET", BATCH_PREDICTIONS)["items"]

    def wait_batch_prediction(self, prediction: Union[JSON, str], timeout: float = BATCH_WAIT, verbose: bool = False) -> JSON:
        """Waits for a batch prediction (its dict or job id) to end, long-polling its job, and
        returns it once it has succeeded. Raises :class:`BatchPredictionFailed` if it failed or
        was cancelled, :class:`~forja.ExecutionTimeout` after ``timeout`` seconds. With
        ``verbose=True`` the job's log lines are printed as they come.

        Example::

            started = repo.batch_predict_table("customers", "models:/churn@champion", "scores", wait=False)
            done = repo.wait_batch_prediction(started, timeout=7200, verbose=True)
        """
        data = prediction if isinstance(prediction, dict) else self.get_batch_prediction(prediction)
        waiter = _BatchWait(self, data)
        waiter._wait_on_job(timeout, verbose)
        final = waiter.data
        if final["status"] != "succeeded":
            raise waiter._failure(final.get("error") or f"it was {final['status']}", final["jobId"])
        return final

    def cancel_batch_prediction(self, job_id: str) -> JSON:
        """Stops a batch prediction; its output is not written. Returns it.

        Example::

            repo.cancel_batch_prediction(started["jobId"])
        """
        return self._call("POST", f"{BATCH_PREDICTIONS}/{_segment(job_id, 'job id')}/cancel")

    def batch_prediction_logs(self, prediction: Union[JSON, str]) -> List[str]:
        """The lines of a batch prediction's job log (its dict or job id): rows read, the
        environment build, the model's own output and traceback.

        Example::

            print(*repo.batch_prediction_logs(job_id), sep="\\n")
        """
        job_id = prediction["jobId"] if isinstance(prediction, dict) else prediction
        return job_log(self.client, self.client.group, job_id)


# -- waiting --------------------------------------------------------------------------------


class _BatchWait(RecordWait):
    owner: GenericRepository
    _PENDING = BATCH_PENDING
    _AGAIN = "wait_batch_prediction"

    def refresh(self) -> Any:
        self.data = self.owner.get_batch_prediction(self.data["jobId"])
        return self

    def _what(self) -> str:
        return f"Batch prediction {self.data['jobId']} ({self.data['sourceTable']} → {self.data['outputTable']})"

    def _failure(self, message: str, job_id: Optional[str]) -> ForjaError:
        return BatchPredictionFailed(message, job_id, self.data)

    def _no_job(self) -> ForjaError:
        return ForjaError(f"Batch prediction {self.data!r} has no job id")

    def _timed_out(self, job_id: str, timeout: float) -> ForjaError:
        return ExecutionTimeout(self._goes_on(job_id, timeout), job_id, job_id)

    def _job_lost(self, job_id: str, job: JSON) -> ForjaError:
        return self._failure(job.get("error") or f"its job was {job['status']}", job_id)


# -- helpers --------------------------------------------------------------------------------


def _model_uri(batch_params: Union[Mapping[str, Any], str]) -> str:
    """The ``models:/`` URI DHuolib's ``batch_params`` name: ``modelname`` with ``stage``,
    ``alias`` or ``version``, or a ``model_uri``.

    Example::

        _model_uri({"modelname": "churn", "stage": "Production"})  # 'models:/churn/Production'
        _model_uri({"modelname": "churn", "alias": "champion"})     # 'models:/churn@champion'
    """
    if isinstance(batch_params, str):
        uri = batch_params.strip()
        if not uri.startswith("models:/"):
            raise ValueError(f"a model is models:/name/Stage, models:/name@alias or models:/name/<version> (got {batch_params!r})")
        return uri
    if not isinstance(batch_params, Mapping):
        raise TypeError(f"batch_params must be a dict like {{'modelname': ..., 'stage': 'Production'}}, not {type(batch_params).__name__}")
    given = batch_params.get("model_uri")
    if given:
        return _model_uri(str(given))
    name = batch_params.get("modelname") or batch_params.get("model_name")
    if not name or not isinstance(name, str):
        if batch_params.get("run_id"):
            raise ValueError("batch_params names only a run_id: register the run's model (ExperimentClient.create_model) and pass its 'modelname' and 'stage'")
        raise ValueError("batch_params needs 'modelname' with 'stage', 'alias' or 'version'")
    stage, alias, version = batch_params.get("stage"), batch_params.get("alias"), batch_params.get("version")
    picked = [k for k, v in (("stage", stage), ("alias", alias), ("version", version)) if v not in (None, "")]
    if len(picked) != 1:
        raise ValueError(f"batch_params needs exactly one of 'stage', 'alias' or 'version' with 'modelname' (got {picked or 'none'})")
    if stage not in (None, ""):
        return f"models:/{name}/{_stage(str(stage))}"
    if alias not in (None, ""):
        return f"models:/{name}@{alias}"
    if isinstance(version, bool) or not str(version).strip().isdigit():
        raise ValueError(f"batch_params 'version' must be a whole number (got {version!r})")
    return f"models:/{name}/{int(str(version).strip())}"


def _stage(stage: str) -> str:
    # MLflow's stages, whatever case DHuolib scripts wrote them in.
    known = {s.lower(): s for s in ("None", "Staging", "Production", "Archived")}
    return known.get(stage.strip().lower(), stage.strip())


def _version(version: Union[int, str]) -> Union[int, str]:
    if isinstance(version, str) and version.strip().lower() == "latest":
        return "latest"
    if isinstance(version, bool):
        raise ValueError(f"version must be a VERSION number or 'latest' (got {version!r})")
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise ValueError(f"version must be a VERSION number or 'latest' (got {version!r})") from None
    if number < 0 or str(number) != str(version).strip():
        raise ValueError(f"version must be a VERSION number or 'latest' (got {version!r})")
    return number


def _order(order_by: Union[str, Mapping[str, Any]]) -> JSON:
    if isinstance(order_by, Mapping):
        column = order_by.get("column")
        if not column:
            raise ValueError("order_by needs a 'column'")
        return {"column": str(column), "desc": bool(order_by.get("desc", False))}
    text = str(order_by).strip()
    head, _, tail = text.rpartition(" ")
    if head and tail.lower() in ("asc", "desc"):
        return {"column": head.strip().strip('"'), "desc": tail.lower() == "desc"}
    if not text:
        raise ValueError("order_by needs a column name")
    return {"column": text.strip('"'), "desc": False}


def _pandas() -> Any:
    try:
        import pandas
        import pyarrow  # noqa: F401  (pandas reads and writes Parquet with it)
    except ImportError as err:
        raise ImportError(f"forja's lake needs pandas and pyarrow: pip install \"forja[lake]\" ({err})") from err
    return pandas


def _to_parquet(frame: Any) -> bytes:
    pandas = _pandas()
    if not isinstance(frame, pandas.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, not {type(frame).__name__}")
    if frame.columns.duplicated().any():
        raise ValueError(f"the frame has duplicate column names: {sorted(set(frame.columns[frame.columns.duplicated()]))}")
    buffer = io.BytesIO()
    # The index is not a column of the table: DHuolib wrote frames with index=False too.
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _from_parquet(data: bytes) -> Any:
    pandas = _pandas()
    return pandas.read_parquet(io.BytesIO(data))
