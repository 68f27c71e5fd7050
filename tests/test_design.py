"""fer_pipeline.analysis.design: the carry-over round's fit on validation and the integrated model it predicts best."""

from __future__ import annotations

import json

import pytest

from fer_pipeline import paths
from fer_pipeline.analysis.design import design_record, effect, fit, round_recalls
from fer_pipeline.analysis.variants import merge, run_name

# Each seed's valid macro recall of the architecture alone: seeds differ a lot (training noise) ...
CONTROL = [0.40, 0.45, 0.52]
# ... and each pick moves every seed by a known amount (the effect the fit must recover, paired by seed).
AT_ARCH = {"activation": -0.01, "batch_size": 0.02, "optimizer": 0.0, "imbalance": 0.05}
AT_BASE = {"activation": 0.02, "batch_size": 0.03, "optimizer": 0.01, "imbalance": -0.04}
PICKS = {"activation": "tanh", "batch_size": 64, "optimizer": "rmsprop", "imbalance": "weighted_sampler"}
PARTS = {"activation": {"model": {"activation": "tanh"}}, "batch_size": {"train": {"batch_size": 64}},
         "optimizer": {"train": {"optimizer": "rmsprop", "lr": 3e-4}}, "imbalance": {"train": {"imbalance": "weighted_sampler"}}}
ARCH_SETTINGS = {"model": {"family": "cnn", "activation": "relu"},
                 "train": {"batch_size": 32, "optimizer": "adam", "lr": 1e-3, "imbalance": "none"}}


def crafted_choice() -> dict:
    """A choice.json whose one-factor axes (around the base MLP) show AT_BASE, every pick carried to the CNN."""
    base = [0.30, 0.28, 0.33]
    valid = {f: {"base": base, str(PICKS[f]): [b + AT_BASE[f] for b in base]} for f in PICKS}
    return {"chosen": {"architecture": "cnn", **{f: str(v) for f, v in PICKS.items()}}, "valid_macro_recall": valid,
            "settings": {"model": {}, "train": {}},
            "carryover": {"architecture": "cnn", "settings": ARCH_SETTINGS,
                          "factors": {f: {"value": PICKS[f], "settings": PARTS[f]} for f in PICKS}}}


def crafted_round() -> dict[str, list[float]]:
    return {"control": CONTROL, **{f: [c + AT_ARCH[f] for c in CONTROL] for f in PICKS}}


def test_fit_recovers_known_effects_and_carryover():
    """Each pick's seed-paired effect on the architecture and on the base, and their difference (the carry-over),
    come back exactly as crafted, however much the seeds themselves differ."""
    got = fit(crafted_choice(), crafted_round())
    for f in PICKS:
        assert got[f]["effect_at_architecture"] == pytest.approx(AT_ARCH[f], abs=1e-12)
        assert got[f]["effect_at_base"] == pytest.approx(AT_BASE[f], abs=1e-12)
        assert got[f]["carryover"] == pytest.approx(AT_ARCH[f] - AT_BASE[f], abs=1e-12)
    assert [f for f in got if got[f]["kept"]] == ["batch_size", "imbalance"]  # zero is not an improvement


def test_integrated_is_the_best_predicted_setting():
    """The integrated model keeps exactly the picks that help on the architecture (not those that helped on the
    base MLP: activation and optimizer did, imbalance did not), its settings are the architecture's with those
    picks, and its predicted score is the control's plus their effects."""
    record = design_record(crafted_choice(), crafted_round())
    assert record["integrated"] == {"architecture": "cnn", "activation": "base", "batch_size": "64",
                                    "optimizer": "base", "imbalance": "weighted_sampler"}
    assert record["settings"] == merge(ARCH_SETTINGS, PARTS["batch_size"], PARTS["imbalance"])
    assert record["predicted_valid_macro_recall"] == pytest.approx(sum(CONTROL) / 3 + 0.02 + 0.05)
    # the best predicted setting beats every other subset of picks under the fitted additive model
    best = max(((a, b, c, d) for a in (0, 1) for b in (0, 1) for c in (0, 1) for d in (0, 1)),
               key=lambda keep: sum(k * AT_ARCH[f] for k, f in zip(keep, PICKS, strict=True)))
    assert [f for k, f in zip(best, PICKS, strict=True) if k] == ["batch_size", "imbalance"]


def test_no_round_keeps_the_one_factor_picks():
    """With the base's architecture chosen there is no round: the integrated model is choose's picks together."""
    choice = crafted_choice() | {"carryover": None, "settings": {"model": {"activation": "tanh"}, "train": {}}}
    choice["chosen"]["architecture"] = "base"
    record = design_record(choice, {})
    assert record["settings"] == choice["settings"] and record["round"] == {}
    assert record["predicted_valid_macro_recall"] is None and "already chosen" in record["why"]


def test_effect_is_paired_by_seed():
    """effect() is the mean of per-seed differences."""
    assert effect([0.5, 0.7], [0.4, 0.4]) == pytest.approx(0.2)


def test_round_recalls_read_the_round_runs(tmp_path):
    """round_recalls reads the architecture's axis run (the control) and each carried factor's run per seed."""
    choice = crafted_choice()
    runs = {"study/architecture-cnn": CONTROL, **{f"carryover/{f}": [c + AT_ARCH[f] for c in CONTROL] for f in PICKS}}
    for folder, scores in runs.items():
        for seed, r in enumerate(scores):
            summary = tmp_path / paths.live_summary(run_name(folder, seed))
            summary.parent.mkdir(parents=True)
            summary.write_text(json.dumps({"valid": {"macro_recall": r}}))
    assert round_recalls(choice, (0, 1, 2), tmp_path) == crafted_round()  # JSON keeps floats exactly
