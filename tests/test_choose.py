"""fer_pipeline.analysis.choose: the integrated model takes, per factor, the best mean validation score."""

from __future__ import annotations

import json

from fer_pipeline import paths
from fer_pipeline.analysis.choose import choose, valid_recalls
from fer_pipeline.analysis.variants import Variant


def test_choose_picks_best_mean_per_factor():
    """The best seed-mean wins even when another value has the single best seed; unknown axes are ignored."""
    valid = {
        "activation": {"relu": [0.30, 0.31, 0.32], "tanh": [0.40, 0.20, 0.20], "sigmoid": [0.29, 0.29, 0.29]},
        "batch_size": {"16": [0.2], "64": [0.25]},
        "depth_activation": {"3": [0.9]},
    }
    assert choose(valid) == {"activation": "relu", "batch_size": "64"}


def test_choose_tie_goes_to_first_listed():
    """Equal means: the value listed first in params wins (a stable, documented rule)."""
    assert choose({"optimizer": {"adam": [0.3], "sgd": [0.3]}}) == {"optimizer": "adam"}


def test_valid_recalls_read_each_seed(tmp_path):
    """valid_recalls reads the kept epoch's valid macro recall of every seed's run from DVCLive's metrics.json."""
    v = Variant("optimizer-sgd", "optimizer", (("optimizer", "sgd"),))
    for seed, r in ((0, 0.1), (1, 0.3)):
        summary = tmp_path / paths.live_summary(v.run(seed))
        summary.parent.mkdir(parents=True)
        summary.write_text(json.dumps({"valid": {"macro_recall": r}}))
    assert valid_recalls([v], (0, 1), tmp_path) == {"sgd": [0.1, 0.3]}


def test_choice_record_carries_each_pick_to_the_chosen_architecture(tmp_path):
    """From every study run's validation score (crafted: the CNN best of the architectures, tanh, batch 64 and
    rmsprop best on their axes, no imbalance handling best), choice.json picks per factor, names the best single
    variant, fills every factor's settings (the base's own where "base" wins), and lists for the carry-over round
    the CNN's settings and each non-base pick, to be retried on the CNN."""
    from fer_pipeline.analysis.choose import choice_record, study_and_presets
    from fer_pipeline.analysis.variants import study_variants
    from fer_pipeline.axes import FACTORS
    from fer_pipeline.params import ParamsFile

    from .conftest import ROOT

    study, presets = study_and_presets(ParamsFile(ROOT / "params.yaml"))
    best = {"architecture-cnn": 0.6, "activation-tanh": 0.4, "batchsize-64": 0.4, "optimizer-rmsprop": 0.4}
    families = study_variants(study)
    for v in {v.name: v for f in FACTORS for v in families[f]}.values():
        for seed in study.seeds:
            summary = tmp_path / paths.live_summary(v.run(seed))
            summary.parent.mkdir(parents=True)
            summary.write_text(json.dumps({"valid": {"macro_recall": best.get(v.name, 0.3)}}))
    record = choice_record(study, presets, tmp_path)
    assert record["chosen"] == {"architecture": "cnn", "activation": "tanh", "batch_size": "64", "optimizer": "rmsprop",
                                "imbalance": "base"}
    assert record["best_single"] == "architecture-cnn"
    assert record["settings"]["train"]["imbalance"] == study.base.imbalance and record["settings"]["train"]["batch_size"] == 64
    carry = record["carryover"]
    assert carry["architecture"] == "cnn" and carry["settings"]["model"]["family"] == "cnn"
    assert carry["settings"]["model"]["activation"] == study.base.activation  # the CNN alone keeps the base's other factors
    assert {f: c["value"] for f, c in carry["factors"].items()} == {"activation": "tanh", "batch_size": "64",
                                                                   "optimizer": "rmsprop"}
    assert carry["factors"]["optimizer"]["settings"] == {"train": vars(presets.optimizers["rmsprop"])}
