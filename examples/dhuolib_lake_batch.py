"""DHuolib's canonical batch script on Forja's GenericRepository: read the feature table, score it
with the model in Production, add the predictions as a column and append them to the output
table as its next VERSION. Schedule it as a batch project (forja.PlatformClient) to run daily;
each run's rows get their own VERSION and CREATED_AT.

    export FORJA_URL=http://127.0.0.1:5050 FORJA_TOKEN=<a Forja token> FORJA_GROUP=<your group>
    python examples/dhuolib_lake_batch.py [MODEL_NAME [FEATURE_TABLE [OUTPUT_TABLE]]]

The model name and tables can also come from EXAMPLE_MODEL, EXAMPLE_FEATURES and EXAMPLE_OUTPUT;
EXAMPLE_FILTER narrows the rows scored and EXAMPLE_ID_COLUMNS (comma-separated, default "id")
names the columns that are not features but go to the output. The model scores on the server in
its own environment; this script needs only forja[lake] (pandas and pyarrow). The last line
printed is a JSON summary.
"""

from __future__ import annotations

import json
import os
import sys

import forja


def main(argv: list) -> int:
    model_name = argv[1] if len(argv) > 1 else os.environ.get("EXAMPLE_MODEL", "churn")
    feature_table = argv[2] if len(argv) > 2 else os.environ.get("EXAMPLE_FEATURES", "churn_features")
    output_table = argv[3] if len(argv) > 3 else os.environ.get("EXAMPLE_OUTPUT", "churn_predictions")
    filter_clause = os.environ.get("EXAMPLE_FILTER") or None
    id_columns = [c.strip() for c in os.environ.get("EXAMPLE_ID_COLUMNS", "id").split(",") if c.strip()]

    # DHuolib's batch_params; on Forja only modelname and stage (or alias, or version) matter.
    batch_params = {
        "modelname": model_name,
        "stage": "Production",
        "experiment_name": model_name,
        "type_model": "sklearn",
        "run_id": None,
        "batch_model_dir": None,
    }

    with forja.GenericRepository() as repo:  # FORJA_URL, FORJA_TOKEN, FORJA_GROUP
        df = repo.to_dataframe(feature_table, filter_clause=filter_clause)
        features = df.drop(columns=[c for c in id_columns if c in df.columns])
        df["predict"] = repo.prediction_batch_with_dataframe(batch_params, features)
        output = df[[c for c in id_columns if c in df.columns] + ["predict"]]
        written = repo.update_table_by_dataframe(output_table, output, if_exists="append", is_update_version=True)

    print(
        json.dumps(
            {
                "model": f"models:/{model_name}/Production",
                "feature_table": feature_table,
                "rows_scored": len(df),
                "output_table": written["table_name"],
                "rows_written": written["number_lines_inserted"],
                "version": written["version"],
                "predictions": {str(k): int(n) for k, n in df["predict"].value_counts().sort_index().items()},
            },
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
