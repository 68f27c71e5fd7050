"""stages.study: a factorial point that is an existing run trains nothing and says why in each of its outputs; a
study stage's runs are what train then evaluate write."""

from __future__ import annotations

import json

from fer_pipeline import paths

from .conftest import ROOT
from .test_stage_contract import crafted_choice


def test_an_existing_point_writes_skipped_json_in_every_output(tmp_path, monkeypatch):
    """At the base's architecture with one pick, factorial point 1 is that pick's axis run: study_factorial@1's four
    output folders (DVC needs each) hold only skipped.json with the reason, and no model is trained."""
    from stages import study

    crafted_choice(tmp_path, {"activation": "base", "batch_size": "64", "imbalance": "base", "optimizer": "base",
                              "architecture": "base"})
    monkeypatch.chdir(tmp_path)
    study.main(["--params", str(ROOT / "params.yaml"), "--from", "study", "--variant", "factorial/1",
                "--choice", "data/choose/choice.json", "--point", "1"])
    for folder in (paths.TRAIN, paths.TRAIN_LOGS, paths.EVALUATE):
        files = list((tmp_path / folder / "factorial/1").iterdir())
        assert [f.name for f in files] == ["skipped.json"]
        assert "existing axis run" in json.loads(files[0].read_text())["skipped"]


def test_each_seed_run_is_what_train_then_evaluate_write(tmp_path, monkeypatch):
    """The study stage loads the split once for all its seeds; each seed's checkpoint weights and test metrics are
    still exactly those of `stages.train` then `stages.evaluate` run alone with that seed."""
    import torch

    from stages import evaluate, fetch, preprocess, split, study, train

    from .test_bad_inputs import write_params

    write_params(tmp_path, {"data.source": "synthetic", "data.synthetic.train_size": 280, "data.synthetic.test_size": 70,
                            "presets.architectures.mlp1.hidden": [16], "study.train.max_epochs": 2, "runtime.threads": 1,
                            "study.seeds": [0, 1], "study.cnn_seeds": [0]})
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
