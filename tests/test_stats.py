"""fer_pipeline.analysis.stats: each axis is compared with its pre-specified control (never a test-picked best), with Holm
within the axis; degenerate variants are flagged and left out; the depth question is an interaction contrast; the
factorial's effects and the integrated model are measured on test; a variant with fewer seeds pairs on the seeds
it shares; the full and deduplicated test sets are both analysed."""

from __future__ import annotations

import numpy as np
import pytest

from fer_pipeline.analysis.bootstrap import holm
from fer_pipeline.analysis.stats import disagreements, integrated_headline, study_stats
from fer_pipeline.analysis.variants import FACTORIAL, factorial_variants, study_variants, trained
from fer_pipeline.metrics import CHANCE
from fer_pipeline.params import ParamsFile, StudyBaseParams, StudyParams, StudyTrainParams

from .conftest import ROOT

STUDY = StudyParams(seeds=(0, 1, 2), cnn_seeds=(0, 1), replicate_seeds=(),
                    base=StudyBaseParams(activation="relu", batch_size=32, optimizer="adam", architecture="mlp1",
                                         imbalance="none"),
                    train=ParamsFile(ROOT / "params.yaml").section(StudyTrainParams, "study.train"),
                    activations=("sigmoid", "tanh"), batch_sizes=(64,),
                    optimizers=("sgd",), architectures=("mlp3", "cnn"), imbalances=("class_weights",), depths=(3,),
                    depth_activations=("relu", "tanh"),
                    bootstrap=200, detect=0.03)
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


def seeds_of(data: dict) -> dict[str, tuple[int, ...]]:
    """Each crafted variant's seeds: 0 .. its runs - 1."""
    return {n: tuple(range(len(r))) for n, r in data.items()}


def stats_for(families: dict, data: dict, best_single: str = "base", design: dict | None = None, **kw) -> dict:
    """study_stats of crafted runs, every variant learned on validation unless `kw` says otherwise (learned)."""
    return study_stats(families, data, 200, STUDY, best_single, learned(data, **kw), seeds_of(data), design)


def crafted(**scores: float) -> tuple[dict, dict]:
    families = study_variants(STUDY)
    data = {name: runs(scores.get(name.replace("-", "_"), 0.5)) for name in trained(families)}
    return families, data


def test_axes_compare_with_the_control_never_the_test_best():
    """A crafted study where the test-best value (tanh) differs from both the base and the validation pick
    (sigmoid): every value is compared with the base; the test-best is never a reference."""
    families, data = crafted(base=0.6, activation_tanh=0.9, activation_sigmoid=0.62)
    stats = stats_for(families, data, "activation-sigmoid")
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


def test_the_study_metric_is_the_integrated_models_headline():
    """metrics/study/integrated.json is the integrated model's headline alone (the keys metrics.headline gives every
    `dvc metrics show` file, so the study adds a row and no column): its seed means on the full test set and its
    deduplicated macro recall, never another variant's."""
    def variants(shift: float) -> dict:
        return {n: {k: {"mean": base + shift} for k, base in (("macro_recall", 0.4), ("accuracy", 0.5), ("macro_f1", 0.3))}
                for n, shift in (("factorial-3", shift), ("base", shift - 0.2))}
    by_set = {"test": {"integrated": {"variant": "factorial-3"}, "variants": variants(0.0)},
              "test_dedup": {"variants": variants(-0.01)}}
    got = integrated_headline(by_set, "FER2013")
    assert got == pytest.approx({"data": "FER2013", "macro_recall": 0.4, "accuracy": 0.5, "macro_f1": 0.3,
                                 "dedup_macro_recall": 0.39})


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
    stats = stats_for(families, data, chance=("activation-sigmoid",))
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
    inter = stats_for(families, data, "base")["depth_interaction"]
    assert inter["reference"] == "relu"
    c = inter["contrasts"]["depth 3: tanh vs relu"]
    assert c["cells"] == ["depth-3-tanh", "activation-tanh", "depth-3-relu", "base"]
    assert abs(c["difference"] - 0.3) < 0.05 and c["significant_holm"]
    families, data = crafted(base=0.6, depth_3_relu=0.7)
    data |= {"activation-tanh": data["base"], "depth-3-tanh": data["depth-3-relu"]}  # an interaction of exactly 0
    inter = stats_for(families, data, "base")["depth_interaction"]
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


FACTORS = ["activation", "optimizer"]


def with_factorial(**scores: float) -> tuple[dict, dict, dict]:
    """crafted() plus the full 2^2 factorial on mlp3 over the sigmoid and sgd picks (mlp3 alone is its axis run),
    and a design.json whose integrated model is the sigmoid point (factorial-1)."""
    families, data = crafted(**scores)
    points = [{"levels": {"activation": a, "optimizer": o}, "reuses": a == o == "base"}
              for o in ("base", "sgd") for a in ("base", "sigmoid")]
    choice = {FACTORIAL: {"architecture": "mlp3", "factors": FACTORS, "points": points}}
    families = families | {FACTORIAL: factorial_variants(choice)}
    for v in families[FACTORIAL][1:]:
        data[v.name] = runs(scores.get(v.name.replace("-", "_"), 0.6))
    design = {"architecture": "mlp3", "factors": FACTORS,
              "integrated": {"variant": "factorial-1", "index": 1, "levels": points[1]["levels"]}}
    return families, data, design


def test_factorial_effects_and_the_integrated_model_on_test():
    """sigmoid adds +0.2 at mlp3 and sgd nothing: on test the factorial's activation effect is about +0.2 and
    significant after Holm, sgd's and the interaction about 0 and not; the integrated model (a design point) is
    compared with the base, the best single variant on validation and the architecture alone."""
    families, data, design = with_factorial(base=0.5, activation_sigmoid=0.55, architecture_mlp3=0.6, factorial_1=0.8,
                                            factorial_3=0.8)
    data["factorial-2"] = data["architecture-mlp3"]  # sgd changes nothing: exactly the architecture's runs
    stats = stats_for(families, data, "activation-sigmoid", design)
    c = stats[FACTORIAL]["contrasts"]
    assert set(c) == {"activation", "optimizer", "activation×optimizer"}
    assert abs(c["activation"]["difference"] - 0.2) < 0.05 and c["activation"]["significant_holm"]
    assert abs(c["optimizer"]["difference"]) < 0.05 and not c["optimizer"]["significant_holm"]
    versus = stats["integrated"]["versus"]
    assert stats["integrated"]["variant"] == "factorial-1"
    assert {k: d["against"] for k, d in versus.items()} == {"base": "base", "best single variant": "activation-sigmoid",
                                                            "chosen architecture alone": "architecture-mlp3"}
    assert versus["chosen architecture alone"]["macro_recall"]["significant_holm"]


def test_a_cnn_with_fewer_seeds_pairs_on_the_seeds_it_shares():
    """The CNN has study.cnn_seeds (2 of the MLPs' 3): its comparison with the base uses seeds 0 and 1 of the base,
    the MLP comparisons all three."""
    families, data = crafted(base=0.5, architecture_cnn=0.7)
    data["architecture-cnn"] = data["architecture-cnn"][:2]
    comparisons = stats_for(families, data)["axes"]["architecture"]["versus_control"]
    assert comparisons["architecture-cnn"]["macro_recall"]["seed_ids"] == [0, 1]
    assert comparisons["architecture-mlp3"]["macro_recall"]["seed_ids"] == [0, 1, 2]
    assert abs(comparisons["architecture-cnn"]["macro_recall"]["difference"] - 0.2) < 0.05
