"""Forja model worker: loads one model and answers predict calls framed on stdin/stdout.

Frames, both ways: 4-byte big-endian header length, header JSON, 4-byte body length, body.
Runs inside the deployment's own Python environment with only the standard library of its
own; pandas is imported only for model kinds that need frames.
"""

import argparse
import json
import os
import struct
import sys
import time
import traceback

from forja_runtime import load_function, load_model, predict_function


class Channel:
    """The framed protocol. Anything the model prints goes to stderr, never into a frame."""

    def __init__(self):
        self.inp = sys.stdin.buffer
        self.out = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def _read_exact(self, n):
        data = self.inp.read(n)
        if data is None or len(data) < n:
            raise EOFError
        return data

    def read(self):
        (hlen,) = struct.unpack(">I", self._read_exact(4))
        header = json.loads(self._read_exact(hlen))
        (blen,) = struct.unpack(">I", self._read_exact(4))
        return header, self._read_exact(blen) if blen else b""

    def write(self, header, body=b""):
        h = json.dumps(header, separators=(",", ":")).encode()
        self.out.write(struct.pack(">I", len(h)) + h + struct.pack(">I", len(body)) + body)
        self.out.flush()


def to_jsonable(value):
    """numpy and pandas values as plain JSON types."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "to_dict"):
        return value.to_dict(orient="records")
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def frame_from(body, fmt):
    import io

    import pandas as pd

    if fmt == "csv":
        return pd.read_csv(io.BytesIO(body))
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(body))
    return frame_of(json.loads(body))


def frame_of(payload):
    """MLflow's request shapes, Neomaril's {"Input": ...}, records or one object, as a DataFrame."""
    import pandas as pd

    if isinstance(payload, dict):
        if "dataframe_split" in payload:
            split = payload["dataframe_split"]
            return pd.DataFrame(split["data"], columns=split.get("columns"), index=split.get("index"))
        if "dataframe_records" in payload:
            return pd.DataFrame(payload["dataframe_records"])
        for key in ("instances", "inputs", "Input"):
            if key in payload:
                return frame_of(payload[key])
        # MLflow's columnar `inputs`: {"column": [values, ...]} is one column per key, not one row.
        if payload and all(isinstance(v, list) for v in payload.values()):
            return pd.DataFrame(payload)
        return pd.DataFrame([payload])
    if isinstance(payload, list):
        return pd.DataFrame(payload)
    raise ValueError("expected a JSON object or a list of records")


MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class MlflowAnswer(Exception):
    """An /invocations error as MLflow's scoring server answers bad input and model errors: 400 BAD_REQUEST."""

    def answer(self):
        return 400, "application/json", json.dumps({"error_code": "BAD_REQUEST", "message": str(self)}).encode()


def mlflow_input(body, content_type):
    """The data and params of an /invocations body by MLflow's rules, for models without MLflow installed."""
    import io

    import pandas as pd

    if content_type == "text/csv":
        try:
            return pd.read_csv(io.StringIO(body.decode("utf-8"))), None
        except Exception as exc:
            raise MlflowAnswer(f"Failed to parse input as a Pandas DataFrame: {exc}") from exc
    if content_type != "application/json":
        return pd.read_parquet(io.BytesIO(body)), None
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise MlflowAnswer(f"Invalid input. Ensure that input is a valid JSON formatted string. Error: {exc}") from exc
    keys = [k for k in MLFLOW_KEYS if isinstance(payload, dict) and k in payload]
    if len(keys) != 1:
        got = "a list" if isinstance(payload, list) else f"the fields {list(payload)}" if isinstance(payload, dict) else type(payload).__name__
        raise MlflowAnswer(f"The input must be a JSON dictionary with exactly one of the input fields {set(MLFLOW_KEYS)}; received {got}.")
    data = payload[keys[0]]
    if keys[0] in ("instances", "inputs") and isinstance(data, list) and data and not isinstance(data[0], dict):
        import numpy as np

        data = np.asarray(data)  # a tensor: rows of values, as the model was trained on
    else:
        data = frame_of({keys[0]: data})
    return data, payload.get("params")


class ScriptModel:
    """Neomaril's contract: score(data, base_path) with the request JSON as a string."""

    batchable = False

    def __init__(self, source, entrypoint, base_path, preprocess=None):
        self.fn = load_function(source, entrypoint, "forja_scorer")
        self.base_path = base_path
        self.preprocess = preprocess

    def predict(self, body, fmt="json"):
        if fmt == "parquet":
            raise ValueError("script models take JSON or CSV; send Parquet to an async execution")
        data = body.decode("utf-8")
        if self.preprocess:
            # The preprocessing script sees what the scorer would, and its answer is what the scorer sees.
            data = self.preprocess(data, self.base_path)
            data = data if isinstance(data, str) else json.dumps(data, default=to_jsonable)
        result = self.fn(data, self.base_path)
        return result.encode("utf-8") if isinstance(result, str) else json.dumps(result, default=to_jsonable).encode()


class FrameModel:
    """MLflow pyfunc and pickled estimators: rows in, one prediction per row out; batchable."""

    batchable = True

    def __init__(self, kind, path, method, base_path=".", preprocess=None):
        self.base_path = base_path
        self.preprocess = preprocess
        model = load_model(kind, path)
        # A pyfunc model is kept whole: /invocations hands it to MLflow's own scoring server.
        self.pyfunc = model if kind == "pyfunc" else None
        self.fn = predict_function(model, kind, method)

    def predict_many(self, payloads, formats):
        import pandas as pd

        frames = [frame_from(p, f) for p, f in zip(payloads, formats)]
        if self.preprocess:
            frames = [self.preprocess(f, self.base_path) for f in frames]
            if not all(isinstance(f, pd.DataFrame) for f in frames):
                raise TypeError("preprocess(df, base_path) must return a pandas DataFrame")
        counts = [len(f) for f in frames]
        result = self.fn(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0])
        rows = to_jsonable(result) if not isinstance(result, list) else result
        out, start = [], 0
        for n in counts:
            out.append(json.dumps({"predictions": rows[start : start + n]}, default=to_jsonable).encode())
            start += n
        return out

    def predict(self, body, fmt="json"):
        return self.predict_many([body], [fmt])[0]

    def invoke(self, body, content_type):
        """One /invocations call under MLflow's scoring contract: (status, content type, body)."""
        if self.pyfunc is not None:
            return self._invoke_pyfunc(body, content_type)
        try:
            data, _params = mlflow_input(body, content_type)
            if self.preprocess:
                data = self.preprocess(data, self.base_path)
            try:
                result = self.fn(data)
            except Exception as exc:
                traceback.print_exc()
                raise MlflowAnswer(f"Encountered an unexpected error while evaluating the model: {type(exc).__name__}: {exc}") from exc
        except MlflowAnswer as exc:
            return exc.answer()
        return 200, "application/json", json.dumps({"predictions": result if isinstance(result, list) else to_jsonable(result)}, default=to_jsonable).encode()

    def _invoke_pyfunc(self, body, content_type):
        # The model's own MLflow parses, enforces the signature and words the errors, as
        # `mlflow models serve` does inside the model's environment: the answers match it byte for byte.
        from mlflow.exceptions import MlflowException
        from mlflow.pyfunc import scoring_server

        model = PreprocessedModel(self.pyfunc, self.preprocess, self.base_path) if self.preprocess else self.pyfunc
        try:
            r = scoring_server.invocations(body, content_type, model, self.pyfunc.metadata.get_input_schema())
        except MlflowException as exc:
            return exc.get_http_status_code(), "application/json", exc.serialize_as_json().encode()
        return r.status, r.mimetype, r.response.encode() if isinstance(r.response, str) else r.response


class PreprocessedModel:
    """A pyfunc model whose input goes through the deployment's preprocess(df, base_path) first."""

    def __init__(self, model, preprocess, base_path):
        self.metadata = model.metadata
        self.model, self.preprocess, self.base_path = model, preprocess, base_path

    def predict(self, data, params=None):
        return self.model.predict(self.preprocess(data, self.base_path), params=params)


def error_of(exc):
    return {"type": type(exc).__name__, "message": str(exc)[:2000]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["script", "pyfunc", "pickle"], required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--entrypoint", default="score")
    parser.add_argument("--base-path", default=".")
    parser.add_argument("--method", default="predict")
    parser.add_argument("--preprocess", default="")
    args = parser.parse_args()
    channel = Channel()
    started = time.perf_counter()
    try:
        preprocess = load_function(args.preprocess, "preprocess", "forja_preprocess") if args.preprocess else None
        if args.kind == "script":
            model = ScriptModel(args.path, args.entrypoint, args.base_path, preprocess)
        else:
            model = FrameModel(args.kind, args.path, args.method, args.base_path, preprocess)
    except BaseException as exc:  # the load itself is what failed: say why, then stop
        traceback.print_exc()
        channel.write({"op": "ready", "ok": False, "error": error_of(exc)})
        return 3
    channel.write({"op": "ready", "ok": True, "pid": os.getpid(), "loadMs": round((time.perf_counter() - started) * 1000, 1), "batchable": model.batchable})
    while True:
        try:
            header, body = channel.read()
        except EOFError:
            return 0
        op = header.get("op")
        try:
            if op == "predict":
                channel.write({"id": header["id"], "ok": True}, model.predict(body, header.get("format", "json")))
            elif op == "predict_many":
                parts, start = [], 0
                for size in header["sizes"]:
                    parts.append(body[start : start + size])
                    start += size
                outs = model.predict_many(parts, header.get("formats") or ["json"] * len(parts))
                channel.write({"id": header["id"], "ok": True, "sizes": [len(o) for o in outs]}, b"".join(outs))
            elif op == "invoke":
                status, mimetype, out = model.invoke(body, header["contentType"])
                channel.write({"id": header["id"], "ok": True, "status": status, "contentType": mimetype}, out)
            elif op == "ping":
                channel.write({"id": header["id"], "ok": True})
            else:
                channel.write({"id": header.get("id"), "ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}"}})
        except MemoryError as exc:
            channel.write(
                {"id": header["id"], "ok": False, "error": {"type": "MemoryError", "message": "the model ran out of memory (the worker's memory limit)"}}
            )
            raise SystemExit(4) from exc
        except Exception as exc:  # the scorer's own error: report it, keep serving
            traceback.print_exc()
            channel.write({"id": header["id"], "ok": False, "error": error_of(exc)})


if __name__ == "__main__":
    sys.exit(main())
