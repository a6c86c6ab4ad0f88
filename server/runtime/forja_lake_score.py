"""Forja lake scoring: a Parquet file in, the same rows with predictions out, chunk by chunk.

Runs in the model's own environment (its requirements.txt), never in the caller's process.
Memory follows --chunk, not the file: rows are read, scored and written one batch at a time.
Prints "FORJA_PROGRESS <done> <total>" after each batch for the server to report.
"""

import argparse
import json
import sys

from forja_runtime import load_model, predict_function, read_frames

# Columns the lake adds to versioned tables: never features.
LAKE_COLUMNS = {"version", "created_at", "model_name", "model_version"}


def load(kind, path):
    """The model's predict function and the feature names it wants (None when it does not say)."""
    model = load_model(kind, path)
    if kind == "pyfunc":
        schema = model.metadata.get_input_schema()
        names = schema.input_names() if schema is not None and schema.has_input_names() else None
    else:
        names = getattr(model, "feature_names_in_", None)
        names = list(names) if names is not None else None
    return predict_function(model, kind), names


def features(frame, names):
    if names is None:
        return frame[[c for c in frame.columns if c.lower() not in LAKE_COLUMNS]]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise SystemExit(f"the rows lack the model's input columns {missing}; they have {list(frame.columns)}")
    return frame[names]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", required=True, choices=["pyfunc", "pickle"])
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--column", default="PREDICT")
    p.add_argument("--chunk", type=int, default=50_000)
    p.add_argument("--keep", default=None, help="JSON list of input columns to copy to the output; all when missing")
    args = p.parse_args()

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    predict, names = load(args.kind, args.model)
    source = pq.ParquetFile(args.input)
    total = source.metadata.num_rows
    keep = json.loads(args.keep) if args.keep is not None else None
    writer = None
    done = 0
    print(f"FORJA_PROGRESS 0 {total}", flush=True)
    for frame in read_frames(args.input, args.chunk):
        result = predict(features(frame, names))
        values = result.to_numpy() if hasattr(result, "to_numpy") else result
        out = frame[keep].copy() if keep is not None else frame.copy()
        out = out.reset_index(drop=True)
        if getattr(values, "ndim", 1) == 2 and values.shape[1] > 1:
            for j in range(values.shape[1]):
                out[f"{args.column}_{j}"] = values[:, j]
        else:
            out[args.column] = list(values.reshape(-1)) if hasattr(values, "reshape") else list(values)
        table = pa.Table.from_pandas(out, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(args.output, table.schema)
        writer.write_table(table.cast(writer.schema))
        done += len(out)
        print(f"FORJA_PROGRESS {done} {total}", flush=True)
    if writer is None:
        # No rows: still an output with the prediction column, so the write makes an empty version.
        empty = source.schema_arrow.empty_table().to_pandas()
        empty = empty[keep] if keep is not None else empty
        empty[args.column] = pd.Series(dtype="float64")
        pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), args.output)
    else:
        writer.close()


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as exc:  # the model's own error, in one line the job log and the API show
        print(f"the model failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
