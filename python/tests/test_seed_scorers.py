"""The scorers of seeds 002 and 003 (MLOps Codex's deploy guides), as they are written, deployed
with forja.ModelClient.create_model and called with predict against a live server, with a real
pickled scikit-learn model: async ``score(data_path, model_path)`` gets the input's folder and the
folder of the files (``model_path+"/model.pkl"``, ``data_path+"/input.csv"``, the output
``data_path+'/output.csv'``), sync ``score(data, base_path)`` the folder of the files."""

from __future__ import annotations

from pathlib import Path

import forja
import pandas as pd
import pytest
from conftest import ADMIN_TOKEN, unique
from seed_scorers.train_model import write_model

SEEDS = Path(__file__).resolve().parent / "seed_scorers"
# Rows far from the f1 = f2 boundary, so the class the model gives is certain.
ROWS = pd.DataFrame({"f1": [9, 1, 7.5], "f2": [1, 8, 2]})
CLASSES = [1, 0, 1]


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """model.pkl and its pinned requirements.txt, as the seeds' notebooks leave them."""
    return write_model(tmp_path_factory.mktemp("seed-model")).parent


@pytest.fixture(scope="module")
def models(server):
    with forja.ModelClient(server.url, token=ADMIN_TOKEN) as client:
        yield client


def deploy(models, model_files, scorer: str, **kwargs) -> forja.ForjaModel:
    return models.create_model(
        unique(scorer.replace("_", "-")), "score", SEEDS / f"{scorer}.py", model_files / "model.pkl", model_files / "requirements.txt", **kwargs
    )


@pytest.mark.parametrize("seed, input_name", [("002", "input.csv"), ("003", "dados.csv")])
def test_the_seeds_async_scorer_runs_as_written(models, model_files, tmp_path, seed, input_name):
    model = deploy(models, model_files, f"seed_{seed}_async", operation="Async", input_type="csv")
    try:
        assert model.status == "Deployed", model.message
        assert model.settings["scorerPaths"] == "folders"
        data = tmp_path / input_name
        ROWS.to_csv(data, index=False)

        execution = model.predict(data).wait_ready(timeout=300)
        assert (execution.status, execution.input_name, execution.output_name) == ("Succeeded", input_name, "output.csv")
        scored = pd.read_csv(execution.download_result(tmp_path / "out"))
        assert list(scored.columns) == ["f1", "f2", "proba", "pred"]
        assert scored["pred"].tolist() == CLASSES
        assert [p > 0.9 if c else p < 0.1 for p, c in zip(scored["proba"], CLASSES)] == [True] * 3

        # The seed reads its input by name: under another name it is not there, and the failure says so.
        other = tmp_path / "other.csv"
        ROWS.to_csv(other, index=False)
        with pytest.raises(forja.ExecutionFailed, match=f"FileNotFoundError: .*{input_name}"):
            model.predict(other).wait_ready(timeout=300)
    finally:
        model.delete()


@pytest.mark.parametrize("seed", ["002", "003"])
def test_the_seeds_sync_scorer_gets_the_folder_of_the_files(models, model_files, seed):
    model = deploy(models, model_files, f"seed_{seed}_sync", schema={"f1": 9, "f2": 1})
    try:
        assert model.status == "Deployed", model.message
        one = model.predict({"Input": {"f1": 9, "f2": 1}})
        assert one["pred"] == 1 and one["proba"] > 0.9
        zero = model.predict({"f1": 1, "f2": 8})
        assert zero["pred"] == 0 and zero["proba"] < 0.1
    finally:
        model.delete()


def test_scorer_paths_is_a_setting_of_create_and_update(models, model_files, tmp_path):
    model = deploy(models, model_files, "seed_002_async", operation="Async", settings={"scorerPaths": "files"})
    try:
        assert model.settings["scorerPaths"] == "files"
        data = tmp_path / "input.csv"
        ROWS.to_csv(data, index=False)
        # The old meaning: model_path is the model file, so model_path+"/model.pkl" is no file.
        with pytest.raises(forja.ExecutionFailed, match="NotADirectoryError"):
            model.predict(data).wait_ready(timeout=300)
        assert model.update_settings(scorerPaths="folders").settings["scorerPaths"] == "folders"
        assert model.predict(data).wait_ready(timeout=300).status == "Succeeded"
        with pytest.raises(forja.InvalidArgument, match="scorerPaths"):
            model.update_settings(scorerPaths="dirs")
    finally:
        model.delete()
