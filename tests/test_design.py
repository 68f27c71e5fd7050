"""fer_pipeline.analysis.design: the factorial's fit on validation (never test) and the integrated model, always a
point of the design, so never trained twice."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_pipeline import paths
from fer_pipeline.analysis.choose import factorial_design, study_and_presets
from fer_pipeline.analysis.design import design_record, point_recalls
from fer_pipeline.analysis.factorial import fraction
from fer_pipeline.analysis.variants import factorial_variants, run_name
from fer_pipeline.params import ParamsFile

from .conftest import ROOT

STUDY, PRESETS = study_and_presets(ParamsFile(ROOT / "params.yaml"))
PICKS = {"activation": "leaky_relu", "batch_size": "64", "optimizer": "rmsprop", "imbalance": "weighted_sampler"}
EFFECT = {"activation": 0.0, "batch_size": -0.04, "optimizer": 0.0, "imbalance": 0.05}  # valid macro recall, + minus -


def choice(arch: str = "cnn", picks: dict[str, str] = PICKS) -> dict:
    chosen = {"architecture": arch, **{f: picks.get(f, "base") for f in ("activation", "batch_size", "optimizer", "imbalance")}}
    return {"chosen": chosen, "factorial": factorial_design(chosen, STUDY, PRESETS)}


def scores(c: dict, effect: dict[str, float] = EFFECT, seeds: int = 3, noise: float = 0.002) -> list[list[float]]:
    """Each point's per-seed validation macro recall: a large seed effect shared by all points, the crafted main
    effects, small noise."""
    rng = np.random.default_rng(0)
    shared = rng.normal(0, 0.03, seeds)
    out = []
    for p in c["factorial"]["points"]:
        mean = 0.45 + sum((e / 2) * (1 if p["levels"][f] != "base" else -1) for f, e in effect.items() if f in p["levels"])
        out.append((mean + shared + rng.normal(0, noise, seeds)).tolist())
    return out


def names(c: dict) -> list[str]:
    return [v.name for v in factorial_variants(c)]


def test_four_picks_make_the_half_fraction_with_the_architecture_alone_first():
    """Four picks at the CNN: 8 points with an even number of picks; the all-base point is the CNN's axis run
    (reused, never retrained), the other seven the factorial's own (factorial/1 .. factorial/7)."""
    c = choice()
    points = c["factorial"]["points"]
    assert len(points) == 8 and [p["reuses"] for p in points] == [True] + [False] * 7
    assert all(sum(v != "base" for v in p["levels"].values()) % 2 == 0 for p in points)
    assert names(c)[0] == "architecture-cnn" and names(c)[1:] == [f"factorial-{i}" for i in range(1, 8)]
    assert [v.run(0) for v in factorial_variants(c)][1] == "factorial/1/s0"
    assert all(p["settings"]["model"]["family"] == "cnn" for p in points)


def test_at_the_base_architecture_one_pick_points_are_the_axis_runs():
    """Three picks at the base MLP: the full 2^3; the all-base point is the base and each one-pick point that pick's
    axis run, so only the 4 points with two or three picks are trained."""
    c = choice("base", {"activation": "leaky_relu", "batch_size": "64", "optimizer": "rmsprop"})
    assert names(c)[:5] == ["base", "activation-leaky_relu", "batchsize-64", "factorial-3", "optimizer-rmsprop"]
    assert sum(not p["reuses"] for p in c["factorial"]["points"]) == 4


def test_fit_keeps_the_effects_that_clear_their_noise_and_picks_the_best_point():
    """The crafted main effects come back from validation; the weighted sampler (+0.05) and batch 64 (-0.04) enter
    the model, the null ones do not, and the integrated model is the point with the sampler's pick and batch
    size's base value, a point of the design (nothing trained twice)."""
    c = choice()
    record = design_record(c, scores(c), names(c))
    fit = record["fit"]["effects"]
    for f, e in EFFECT.items():
        assert fit[f]["effect"] == pytest.approx(e, abs=0.01)
    assert fit["imbalance"]["kept"] and fit["batch_size"]["kept"]
    assert not fit["activation"]["kept"] and not fit["optimizer"]["kept"]
    levels = record["integrated"]["levels"]
    assert levels["imbalance"] == "weighted_sampler" and levels["batch_size"] == "base"
    assert record["integrated"]["variant"] in names(c)
    fitted = [p["fitted"] for p in record["points"]]
    assert fitted[record["integrated"]["index"]] == max(fitted)


def test_a_best_setting_outside_the_half_fraction_is_said():
    """When the main effects favour an odd number of picks (only the sampler), that setting is not in the half
    fraction: the integrated model is the best point inside it, and the record says the better setting was not
    trained."""
    c = choice()
    record = design_record(c, scores(c, {"activation": 0.0, "batch_size": 0.0, "optimizer": 0.0, "imbalance": 0.06}), names(c))
    assert record["outside_fraction"] and "outside the half fraction" in record["why"]
    assert record["integrated"]["levels"]["imbalance"] == "weighted_sampler"


def test_no_pick_to_carry_is_the_architecture_alone():
    """Every carried factor kept the base's value: the design is the chosen architecture alone, and it is the
    integrated model."""
    c = choice("cnn", {})
    record = design_record(c, [[0.5, 0.52, 0.49]], names(c))
    assert record["integrated"]["variant"] == "architecture-cnn" and record["fit"] is None
    assert fraction(0) == [()]


def test_point_recalls_read_each_points_runs_on_the_cnn_seeds(tmp_path):
    """point_recalls reads every point's DVCLive summary for the seeds the points share (the CNN's, study.cnn_seeds),
    in the design's order: the architecture's axis run, then factorial/<index>."""
    c = choice()
    want = scores(c, seeds=len(STUDY.cnn_seeds))
    for v, per_seed in zip(factorial_variants(c), want, strict=True):
        for seed, r in zip(STUDY.cnn_seeds, per_seed, strict=True):
            summary = tmp_path / paths.live_summary(run_name(v.path, seed))
            summary.parent.mkdir(parents=True)
            summary.write_text(json.dumps({"valid": {"macro_recall": r}}))
    got, got_names = point_recalls(c, STUDY, PRESETS, tmp_path)
    assert got == want and got_names == names(c)
