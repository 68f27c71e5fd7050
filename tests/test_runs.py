"""fer_pipeline.training.runs: a training run writes its checkpoint with everything predicting needs, and its run record."""

from __future__ import annotations

import dataclasses

from fer_pipeline import paths
from fer_pipeline.io import read_json
from fer_pipeline.params import load_params, to_dict
from fer_pipeline.training.checkpoint import input_normalization, load_checkpoint
from fer_pipeline.training.runs import train_run

from .test_bad_inputs import write_params


def test_train_run_stores_the_normalization_in_the_checkpoint(tmp_path, monkeypatch):
    """The checkpoint's args hold the whole normalization record preprocess wrote (mode, mean, std), so that
    predicting with the model needs no normalization.json; run.json records where and how long it trained."""
    from stages import fetch, preprocess, split

    write_params(tmp_path, {"data.source": "synthetic", "data.synthetic.train_size": 140, "data.synthetic.test_size": 35,
                            "preprocess.normalize": "standardize"})
    monkeypatch.chdir(tmp_path)
    for stage in (fetch, split, preprocess):  # preprocess reads the split (standardize: train rows only)
        stage.main([])
    params = load_params(tmp_path / "params.yaml")
    mp = dataclasses.replace(params.model, hidden=(8,))
    tp = dataclasses.replace(params.train, max_epochs=1)
    result = train_run("tiny", mp, tp, "cpu", 1)
    written = read_json(paths.NORMALIZATION)
    assert written["normalize"] == "standardize" and 0 < written["std"] < 1
    ckpt = load_checkpoint(paths.model_file("tiny"))
    assert ckpt["args"]["preprocess"] == written and input_normalization(ckpt, paths.model_file("tiny")) == written
    assert ckpt["args"]["model"] == to_dict(mp) and ckpt["epoch"] == result.best_epoch == 1
    run = read_json(paths.run_file("tiny"))
    assert run["device"] == "cpu" and run["epochs_trained"] == 1 and run["processes"] == 1 and run["cpu"]["model"]
