"""Forja async execution: one input file in, one output file out, in a fresh process.

Script models follow Neomaril's contract, score(data_path, model_path): the input is in its own
folder, the scorer writes its output there and returns that path. With --scorer-paths folders
(Neomaril's meaning) data_path is that folder and model_path the deployment's files folder; with
files (Forja's first meaning, kept by older deployments) they are the input file and the model
file. Frame models (pickle, pyfunc)
are read and scored chunk by chunk, so memory follows the chunk size, not the file size.
When done, writes done.json (atomically): a retry after a crash adopts it instead of running again.
"""

import argparse
import json
import os

from forja_runtime import load_function, load_model, predict_function, read_frames

CHUNK_ROWS = 50_000


def score_frames(predict, input_path, output_dir, preprocess=None, base_path="."):
    import pandas as pd

    out_path = os.path.join(output_dir, "predictions.csv")
    rows = 0
    with open(out_path, "w") as out:
        for i, frame in enumerate(read_frames(input_path, CHUNK_ROWS)):
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


def scorer_folders(input_file, work, base_path):
    """Neomaril's folders: the input's folder and the deployment's files folder.

    The scorer finds its input in that folder by name (``inputFileName``, or a name it was written
    for, as the seeds' ``data_path + "/input.csv"``). A preprocessed input must be written in the
    same folder, and ``inputFileName`` then names it, as Neomaril names a preprocessed dataset.
    """
    if os.path.dirname(os.path.abspath(input_file)) != work:
        raise SystemExit(
            f"preprocess() returned {input_file!r}: with scorerPaths 'folders' it must write its file in the "
            "folder of the input it got (os.path.dirname(data_path)), which is the folder the scorer gets"
        )
    os.environ["inputFileName"] = os.path.basename(input_file)
    return work, base_path


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
    p.add_argument("--scorer-paths", choices=["folders", "files"], required=True)
    args = p.parse_args()
    work = os.path.dirname(os.path.abspath(args.input))
    preprocess = load_function(args.preprocess, "preprocess", "forja_preprocess", SystemExit) if args.preprocess else None
    if args.kind == "script":
        data_path = args.input
        if preprocess:
            # Neomaril's async preprocessing: a file in, the path of the file it wrote out.
            data_path = str(preprocess(args.input, args.base_path or work))
            if not os.path.isfile(data_path):
                raise SystemExit(f"preprocess() returned {data_path!r}, which is not a file it wrote")
        model_path = args.model_path
        if args.scorer_paths == "folders":
            data_path, model_path = scorer_folders(data_path, work, args.base_path)
        output = load_function(args.path, args.entrypoint, "forja_scorer", SystemExit)(data_path, model_path)
        if not output or not os.path.isfile(str(output)):
            raise SystemExit(f"score() returned {output!r}, which is not a file it wrote")
    else:
        predict = predict_function(load_model(args.kind, args.path), args.kind, args.method)
        output = score_frames(predict, args.input, work, preprocess, args.base_path or work)
    tmp = args.done + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"output": os.path.abspath(str(output))}, f)
    os.replace(tmp, args.done)


if __name__ == "__main__":
    main()
