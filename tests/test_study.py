"""stages.study: a carry-over stage with no pick to carry trains nothing and says why in each of its outputs."""

from __future__ import annotations

import json

from fer_pipeline import paths

from .conftest import ROOT
from .test_stage_contract import crafted_choice


def test_nothing_to_carry_writes_skipped_json_in_every_output(tmp_path, monkeypatch):
    """choose kept the base's activation: study_carryover@activation's four output folders (DVC needs each)
    hold only skipped.json with the reason, and no model is trained."""
    from stages import study

    crafted_choice(tmp_path, {"activation": "base", "batch_size": "64", "imbalance": "base", "optimizer": "base",
                              "architecture": "cnn"})
    monkeypatch.chdir(tmp_path)
    study.main(["--params", str(ROOT / "params.yaml"), "--from", "study", "--variant", "carryover/activation",
                "--choice", "data/choose/choice.json", "--carry", "activation"])
    for folder in (paths.TRAIN, paths.TRAIN_LOGS, paths.EVALUATE, paths.EVALUATE_METRICS):
        files = list((tmp_path / folder / "carryover/activation").iterdir())
        assert [f.name for f in files] == ["skipped.json"]
        assert "nothing to carry over" in json.loads(files[0].read_text())["skipped"]


def test_each_seed_run_is_what_train_then_evaluate_write(tmp_path, monkeypatch):
    """The study stage loads the split once for all its seeds; each seed's checkpoint weights and test metrics are
    still exactly those of `stages.train` then `stages.evaluate` run alone with that seed."""
    import torch

    from stages import evaluate, fetch, preprocess, split, study, train

    from .test_bad_inputs import write_params

    write_params(tmp_path, {"data.source": "synthetic", "data.synthetic.train_size": 280, "data.synthetic.test_size": 70,
                            "presets.architectures.mlp1.hidden": [16], "study.train.max_epochs": 2, "runtime.threads": 1,
                            "study.seeds": [0, 1]})
    monkeypatch.chdir(tmp_path)
    for stage in (fetch, split, preprocess):
        stage.main([])
    study.main(["--from", "study", "--variant", "study/base"])
    train.main(["--from", "study", "--variant", "alone", "--set", "train.seed=1"])
    evaluate.main(["--from", "study", "--variant", "alone"])
    together = torch.load(paths.model_file("study/base/s1"), weights_only=True)["model"]
    alone = torch.load(paths.model_file("alone"), weights_only=True)["model"]
    assert together.keys() == alone.keys() and all(torch.equal(together[k], alone[k]) for k in alone)
    got, want = (json.loads(paths.eval_file(v).read_text()) for v in ("study/base/s1", "alone"))
    assert got["test"] == want["test"] and got["test_dedup"] == want["test_dedup"]
