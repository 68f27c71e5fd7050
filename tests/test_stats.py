"""fer_pipeline.analysis.stats: each axis is compared with its pre-specified control (never a test-picked best), with Holm
within the axis; degenerate variants are flagged and left out; the depth question is an interaction contrast;
the full and deduplicated test sets are both analysed."""

from __future__ import annotations

import numpy as np

from fer_pipeline.analysis.bootstrap import holm
from fer_pipeline.analysis.stats import axis_metrics, disagreements, study_stats
from fer_pipeline.analysis.variants import carryover_variants, study_variants, trained
from fer_pipeline.metrics import CHANCE
from fer_pipeline.params import ParamsFile, StudyBaseParams, StudyParams, StudyTrainParams

from .conftest import ROOT

STUDY = StudyParams(seeds=(0, 1, 2), confirm_seeds=(10, 11, 12),
                    base=StudyBaseParams(activation="relu", batch_size=32, optimizer="adam", architecture="mlp1",
                                         imbalance="none"),
                    train=ParamsFile(ROOT / "params.yaml").section(StudyTrainParams, "study.train"),
                    activations=("sigmoid", "tanh"), batch_sizes=(64,),
                    optimizers=("sgd",), architectures=("mlp3",), imbalances=("class_weights",), depths=(3,),
                    depth_activations=("relu", "tanh"),
                    bootstrap=200)
RNG = np.random.default_rng(0)
Y = RNG.integers(0, 7, 3000)


def runs(right: float, seeds: int = 3) -> list:
    """Seeds' (true, predicted) with about `right` of the images correct (errors spread to the next class)."""
    return [(Y, np.where(RNG.random(len(Y)) < right, Y, (Y + 1) % 7)) for _ in range(seeds)]


def learned(data: dict, chance: tuple[str, ...] = (), capped: tuple[str, ...] = ()) -> dict[str, dict[str, list]]:
    """Each variant's training record per seed (stats.load_training): validation macro recall 0.5 (it learned),
    CHANCE for the variants named in chance; stopped by patience after 10 epochs, by the cap (max_epochs, after 60)
    for the variants named in capped."""
    return {n: {"valid_macro_recall": [CHANCE if n in chance else 0.5] * len(r),
                "epochs_trained": [60 if n in capped else 10] * len(r), "best_epoch": [57 if n in capped else 7] * len(r),
                "stop_reason": ["max_epochs" if n in capped else "patience"] * len(r)} for n, r in data.items()}


def crafted(**scores: float) -> tuple[dict, dict]:
    families = study_variants(STUDY)
    data = {name: runs(scores.get(name.replace("-", "_"), 0.5)) for name in trained(families)}
    return families, data


def test_axes_compare_with_the_control_never_the_test_best():
    """A crafted study where the test-best value (tanh) differs from both the base and the validation pick
    (sigmoid): every value is compared with the base, and the integrated model with the validation pick; the
    test-best is never a reference."""
    families, data = crafted(base=0.6, activation_tanh=0.9, activation_sigmoid=0.62)
    stats = study_stats(families, data, 200, STUDY, best_single="activation-sigmoid", training=learned(data))
    axis = stats["axes"]["activation"]
    assert axis["control"] == "base" and "best" not in axis
    assert set(axis["versus_control"]) == {"activation-sigmoid", "activation-tanh"}
    assert all(d["against"] == "base" for d in axis["versus_control"].values())
    tanh = axis["versus_control"]["activation-tanh"]["macro_recall"]
    assert abs(tanh["difference"] - 0.3) < 0.05 and tanh["significant_holm"]
    for d in axis["versus_control"].values():  # each comparison says how it was computed and what it could find
        m = d["macro_recall"]
        assert {"difference", "ci95", "ci_holm", "p", "p_holm", "significant_holm", "method", "df", "detectable",
                "pooling"} <= set(m)
        assert m["method"] in ("pooled", "per-pair") and m["pooling"]["reason"]
        assert m["df"] >= 4 if m["method"] == "pooled" else m["df"] == 2  # pooled over 3 variants x 3 seeds
        assert 0 < m["detectable"] < 0.2
    assert stats["integrated"]["best single variant"]["against"] == "activation-sigmoid"
    assert stats["integrated"]["base"]["against"] == "base"
    assert axis_metrics(stats, families)["activation"]["activation-tanh"] > axis_metrics(stats, families)["activation"]["base"]


def test_holm_adjusts_within_a_family():
    """Holm's step-down: the smallest p times m, the next times m-1, never below an earlier one; only the first
    of p = 0.01, 0.03, 0.04 (m = 3) stays below 0.05, though all three are below it unadjusted."""
    out = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert [round(out[k]["p_holm"], 6) for k in "acb"] == [0.03, 0.06, 0.06]
    assert [out[k]["significant_holm"] for k in "acb"] == [True, False, False]


def test_degenerate_variants_are_flagged_on_validation_and_left_out():
    """A variant at chance on validation in every seed is flagged degenerate and gets no comparison, though it
    scores well on test; one at chance only on test (predicting one class there) is not flagged and is
    compared: the flag shapes the families, so test never decides it."""
    families, data = crafted(base=0.6, activation_sigmoid=0.9)
    data["activation-tanh"] = [(Y, np.zeros_like(Y)) for _ in range(3)]
    stats = study_stats(families, data, 200, STUDY, best_single="base", training=learned(data, chance=("activation-sigmoid",)))
    assert stats["variants"]["activation-sigmoid"]["degenerate"]
    assert stats["variants"]["activation-sigmoid"]["valid_macro_recall"] == [CHANCE] * 3
    assert not stats["variants"]["activation-tanh"]["degenerate"]
    assert stats["variants"]["activation-tanh"]["macro_recall"]["mean"] < CHANCE + 0.005
    assert stats["axes"]["activation"]["degenerate"] == ["activation-sigmoid"]
    assert list(stats["axes"]["activation"]["versus_control"]) == ["activation-tanh"]


def test_depth_question_is_an_interaction_interval():
    """With depth helping tanh by +0.3 and relu by 0, the interaction contrast (tanh at 3 - tanh at 1) - (relu at
    3 - relu at 1) is about +0.3 and significant; the reference is the base's activation (relu)."""
    families, data = crafted(base=0.6, activation_tanh=0.6, depth_3_relu=0.6, depth_3_tanh=0.9)
    inter = study_stats(families, data, 200, STUDY, best_single="base", training=learned(data))["depth_interaction"]
    assert inter["reference"] == "relu"
    c = inter["contrasts"]["depth 3: tanh vs relu"]
    assert c["cells"] == ["depth-3-tanh", "activation-tanh", "depth-3-relu", "base"]
    assert abs(c["difference"] - 0.3) < 0.05 and c["significant_holm"]
    families, data = crafted(base=0.6, depth_3_relu=0.7)
    data |= {"activation-tanh": data["base"], "depth-3-tanh": data["depth-3-relu"]}  # an interaction of exactly 0
    inter = study_stats(families, data, 200, STUDY, best_single="base", training=learned(data))["depth_interaction"]
    c = inter["contrasts"]["depth 3: tanh vs relu"]
    assert abs(c["difference"]) < 0.05 and not c["significant_holm"]


def test_dedup_disagreements_are_named():
    """A comparison significant on one test set and not on the other is listed."""
    def one(sig: bool) -> dict:
        d = {"difference": 0.1, "significant_holm": sig}
        return {"axes": {"activation": {"control": "base", "versus_control": {"activation-tanh": {"macro_recall": d}}}}}

    assert disagreements({"test": one(True), "test_dedup": one(True)}) == []
    assert disagreements({"test": one(True), "test_dedup": one(False)}) == [
        "activation-tanh vs base: higher on the full test set, no difference shown on the deduplicated one"]


def with_round(**scores: float) -> tuple[dict, dict]:
    """crafted() plus a carry-over round on mlp3: its sigmoid and sgd picks retried there."""
    families, data = crafted(**scores)
    choice = {"carryover": {"architecture": "mlp3", "factors": {"activation": {"value": "sigmoid"},
                                                                "optimizer": {"value": "sgd"}}}}
    families = families | {"carryover": carryover_variants(choice)}
    for v in families["carryover"][1:]:
        data[v.name] = runs(scores.get(v.name.replace("-", "_"), 0.5))
    return families, data


def test_carryover_is_an_interaction_interval():
    """sigmoid helps the base MLP by +0.2 but does nothing on mlp3, sgd does nothing on either: the carry-over
    contrast (mlp3 + pick - mlp3) - (base + pick - base) is about -0.2 and significant for sigmoid, about 0 and
    not significant for sgd; the round's runs are compared with the architecture alone, and the integrated model
    also with the architecture alone."""
    families, data = with_round(base=0.5, activation_sigmoid=0.7, architecture_mlp3=0.6, carryover_activation=0.6)
    data |= {"optimizer-sgd": data["base"], "carryover-optimizer": data["architecture-mlp3"]}  # sgd changes nothing
    stats = study_stats(families, data, 200, STUDY, best_single="activation-sigmoid", training=learned(data))
    c = stats["carryover"]["contrasts"]
    assert c["activation=sigmoid"]["cells"] == ["carryover-activation", "architecture-mlp3", "activation-sigmoid", "base"]
    assert abs(c["activation=sigmoid"]["difference"] + 0.2) < 0.05 and c["activation=sigmoid"]["significant_holm"]
    assert abs(c["optimizer=sgd"]["difference"]) < 0.05 and not c["optimizer=sgd"]["significant_holm"]
    assert stats["axes"]["carryover"]["control"] == "architecture-mlp3"
    assert stats["integrated"]["chosen architecture alone"]["against"] == "architecture-mlp3"
