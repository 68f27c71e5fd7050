"""fer_pipeline.analysis.replicate: the comparisons the study calls significant are retrained at fresh seeds and
judged by one rule (a verdict that reverses, or that the fresh seeds do not show, is not replicated); the stage
composes each variant as its study stage does and trains nothing when the replication is not asked for."""

from __future__ import annotations

import json

import numpy as np

from fer_pipeline import paths
from fer_pipeline.analysis.bootstrap import HIGHER, LOWER, bootstrap_counts, family_comparisons, run_scores
from fer_pipeline.analysis.replicate import NOT_REPLICATED, REPLICATED, REVERSED, outcome, replication_record, significant
from fer_pipeline.analysis.report import replication_section

from .test_stats import crafted, runs, stats_for

RNG = np.random.default_rng(3)


def test_only_holm_significant_axis_comparisons_are_replicated():
    """The plan lists each comparison significant after Holm, with its direction, and nothing else."""
    families, data = crafted(base=0.6, activation_tanh=0.8, activation_sigmoid=0.4)
    data["optimizer-sgd"] = data["base"]  # exactly the control: no difference
    plan = significant(stats_for(families, data))
    assert {(p["variant"], p["control"], p["verdict"]) for p in plan} >= {("activation-tanh", "base", HIGHER),
                                                                          ("activation-sigmoid", "base", LOWER)}
    assert "optimizer-sgd" not in {p["variant"] for p in plan}


def fresh(effects: dict[str, float], seeds: int = 3) -> dict[str, dict]:
    """family_comparisons of crafted fresh runs: each variant's runs `effects` above (or below) the control's 0.6."""
    boot = bootstrap_counts(3000, 200)
    scores = {"base": run_scores(runs(0.6, seeds), boot)["macro_recall"]}
    scores |= {v: run_scores(runs(0.6 + e, seeds), boot)["macro_recall"] for v, e in effects.items()}
    return family_comparisons(scores, {v: {v: 1.0, "base": -1.0} for v in effects})


def test_the_rule_on_crafted_fresh_seeds():
    """A verdict the fresh seeds show again is replicated; one that reverses at fresh seeds is not replicated
    (reversed); one the fresh seeds do not show is not replicated."""
    plan = [{"axis": "activation", "variant": v, "control": "base", "verdict": HIGHER} for v in ("a", "b", "c")]
    got = fresh({"a": 0.2, "b": -0.2, "c": 0.0})
    assert [outcome(HIGHER, got[v]) for v in "abc"] == [REPLICATED, REVERSED, NOT_REPLICATED]
    record = replication_record(plan, got)
    assert record["counts"] == {REPLICATED: 1, REVERSED: 1, NOT_REPLICATED: 1}
    assert REVERSED.startswith("not replicated")
    text = replication_section(record)
    assert "| b vs base | higher | 0, 1, 2 |" in text and text.rstrip().endswith(f"| {NOT_REPLICATED} |")


def test_stage_retrains_the_plan_at_fresh_seeds(tmp_path, monkeypatch):
    """With replicate seeds given, the stage retrains the significant variant and its control at those seeds, each
    exactly as its study stage composes it, and records the fresh comparison; with none it trains nothing and
    says the replication is opt-in."""
    import torch

    from stages import fetch, preprocess, replicate, split

    from .test_bad_inputs import write_params

    tiny = {"data.source": "synthetic", "data.synthetic.train_size": 280, "data.synthetic.test_size": 70,
            "presets.architectures.mlp1.hidden": [16], "study.train.max_epochs": 2, "runtime.threads": 1,
            "study.seeds": [0, 1], "study.cnn_seeds": [0]}
    write_params(tmp_path, tiny | {"study.replicate_seeds": [7, 8]})
    monkeypatch.chdir(tmp_path)
    for stage in (fetch, split, preprocess):
        stage.main([])
    axes = {"activation": {"control": "base", "versus_control": {"activation-tanh": {"macro_recall": {
        "difference": 0.1, "significant_holm": True}}}}}
    for path, record in ((paths.STATS, {"test": {"axes": axes}}), (paths.CHOICE, {"factorial": None})):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
    replicate.main([])
    got = json.loads(paths.REPLICATION.read_text())
    assert [(r["variant"], r["fresh"]["seed_ids"]) for r in got["comparisons"]] == [("activation-tanh", [7, 8])]
    tanh = torch.load(paths.model_file("replicate/activation-tanh/s8"), weights_only=True)
    assert tanh["args"]["model"]["activation"] == "tanh" and tanh["args"]["train"]["seed"] == 8
    assert paths.eval_file("replicate/base/s7").is_file()
    write_params(tmp_path, tiny | {"study.replicate_seeds": []})
    replicate.main([])
    assert "opt-in" in json.loads(paths.REPLICATION.read_text())["skipped"]
    assert "opt-in" in json.loads((tmp_path / paths.TRAIN / "replicate/skipped.json").read_text())["skipped"]
