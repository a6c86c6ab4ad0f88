"""Forja async execution: one input file in, one output file out, in a fresh process.

Script models follow Neomaril's contract, score(data_path, model_path): the input is in its own
folder, the scorer writes its output there and returns that path. Frame models (pickle, pyfunc)
are read and scored chunk by chunk, so memory follows the chunk size, not the file size.
When done, writes done.json (atomically): a retry after a crash adopts it instead of running again.
"""
import argparse
import importlib.util
import json
import os
import sys

CHUNK_ROWS = 50_000


def load_frame_model(kind, path, method):
    if kind == "pyfunc":
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(path).predict
    try:
        import joblib

        model = joblib.load(path)
    except ImportError:
        import pickle

        with open(path, "rb") as f:
            model = pickle.load(f)
    return getattr(model, method)


def chunks(input_path):
    import pandas as pd

    lower = input_path.lower()
    if lower.endswith(".csv"):
        yield from pd.read_csv(input_path, chunksize=CHUNK_ROWS)
    elif lower.endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(input_path).iter_batches(batch_size=CHUNK_ROWS):
            yield batch.to_pandas()
    elif lower.endswith(".json"):
        with open(input_path) as f:
            payload = json.load(f)
        yield pd.DataFrame(payload if isinstance(payload, list) else [payload])
    else:
        raise ValueError(f"unsupported input file {os.path.basename(input_path)}: use .csv, .parquet or .json")


def load_function(source, name, module_name):
    spec = importlib.util.spec_from_file_location(module_name, source)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(source)))
    spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise SystemExit(f"{os.path.basename(source)} has no function {name}()")
    return getattr(module, name)


def score_frames(predict, input_path, output_dir, preprocess=None, base_path="."):
    import pandas as pd

    out_path = os.path.join(output_dir, "predictions.csv")
    rows = 0
    with open(out_path, "w") as out:
        for i, frame in enumerate(chunks(input_path)):
            if preprocess:
                frame = preprocess(frame, base_path)
                if not isinstance(frame, pd.DataFrame):
                    raise SystemExit("preprocess(df, base_path) must return a pandas DataFrame")
            result = predict(frame)
            values = result.tolist() if hasattr(result, "tolist") else list(result)
            if values and isinstance(values[0], list):
                df = pd.DataFrame(values, columns=[f"prediction_{j}" for j in range(len(values[0]))])
            else:
                df = pd.DataFrame({"prediction": values})
            df.to_csv(out, header=(i == 0), index=False)
            rows += len(df)
            print(f"scored {rows} rows", flush=True)
    return out_path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--entrypoint", default="score")
    p.add_argument("--method", default="predict")
    p.add_argument("--input", required=True)
    p.add_argument("--model-path", default="")
    p.add_argument("--done", required=True)
    p.add_argument("--preprocess", default="")
    p.add_argument("--base-path", default="")
    args = p.parse_args()
    work = os.path.dirname(os.path.abspath(args.input))
    preprocess = load_function(args.preprocess, "preprocess", "forja_preprocess") if args.preprocess else None
    if args.kind == "script":
        data_path = args.input
        if preprocess:
            # Neomaril's async preprocessing: a file in, the path of the file it wrote out.
            data_path = str(preprocess(args.input, args.base_path or work))
            if not os.path.isfile(data_path):
                raise SystemExit(f"preprocess() returned {data_path!r}, which is not a file it wrote")
        output = load_function(args.path, args.entrypoint, "forja_scorer")(data_path, args.model_path)
        if not output or not os.path.isfile(str(output)):
            raise SystemExit(f"score() returned {output!r}, which is not a file it wrote")
    else:
        output = score_frames(load_frame_model(args.kind, args.path, args.method), args.input, work, preprocess, args.base_path or work)
    tmp = args.done + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"output": os.path.abspath(str(output))}, f)
    os.replace(tmp, args.done)


if __name__ == "__main__":
    main()
