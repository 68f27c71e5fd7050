"""fer_pipeline.analysis.choose: per factor, the best mean validation score; the factorial over the carried picks at
the chosen architecture."""

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
    assert valid_recalls([v], {v.name: (0, 1)}, tmp_path) == {"sgd": [0.1, 0.3]}


def test_choice_record_designs_the_factorial_at_the_chosen_architecture(tmp_path):
    """From every study run's validation score (crafted: the CNN best of the architectures, tanh, batch 64 and
    rmsprop best on their axes, no imbalance handling best), choice.json picks per factor, names the best single
    variant, fills every factor's settings (the base's own where "base" wins), and designs the factorial over the
    three non-base carried picks at the CNN: the full 2^3, each point with every factor's fields; the CNN's runs
    are read on study.cnn_seeds, the MLPs' on study.seeds."""
    from fer_pipeline.analysis.choose import choice_record, study_and_presets
    from fer_pipeline.analysis.variants import study_variants, variant_seeds
    from fer_pipeline.axes import FACTORS
    from fer_pipeline.params import ParamsFile

    from .conftest import ROOT

    study, presets = study_and_presets(ParamsFile(ROOT / "params.yaml"))
    best = {"architecture-cnn": 0.6, "activation-tanh": 0.4, "batchsize-64": 0.4, "optimizer-rmsprop": 0.4}
    families = study_variants(study)
    for v in {v.name: v for f in FACTORS for v in families[f]}.values():
        for seed in variant_seeds(v, study, presets):
            summary = tmp_path / paths.live_summary(v.run(seed))
            summary.parent.mkdir(parents=True)
            summary.write_text(json.dumps({"valid": {"macro_recall": best.get(v.name, 0.3)}}))
    record = choice_record(study, presets, tmp_path)
    assert record["chosen"] == {"architecture": "cnn", "activation": "tanh", "batch_size": "64", "optimizer": "rmsprop",
                                "imbalance": "base"}
    assert record["best_single"] == "architecture-cnn"
    assert len(record["valid_macro_recall"]["architecture"]["cnn"]) == len(study.cnn_seeds)
    assert len(record["valid_macro_recall"]["activation"]["tanh"]) == len(study.seeds)
    assert record["settings"]["train"]["imbalance"] == study.base.imbalance and record["settings"]["train"]["batch_size"] == 64
    design = record["factorial"]
    assert design["architecture"] == "cnn" and design["factors"] == ["activation", "batch_size", "optimizer"]
    assert len(design["points"]) == 8 and design["points"][0]["reuses"] and not any(p["reuses"] for p in design["points"][1:])
    alone, last = design["points"][0], design["points"][-1]
    assert alone["settings"]["model"]["family"] == "cnn" and alone["settings"]["model"]["activation"] == study.base.activation
    assert last["levels"] == {"activation": "tanh", "batch_size": "64", "optimizer": "rmsprop"}
    assert {k: last["settings"]["train"][k] for k in vars(presets.optimizers["rmsprop"])} == vars(presets.optimizers["rmsprop"])
