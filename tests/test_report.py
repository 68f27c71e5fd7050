"""fer_pipeline.report: conclusions are written from the numbers (no sentence is fixed in advance)."""

from __future__ import annotations

from fer_pipeline.report import axis_conclusion, axis_table, depth_conclusion, detectable_sentence, integrated_section


def stats_with(diffs: dict[str, tuple[float, bool]]) -> dict:
    """A stats dict for one axis whose best is 'a' and whose other variants have these (difference, significant)."""
    variants = {"a": {"axis": "x"}} | {n: {"axis": "x"} for n in diffs}
    for v in variants.values():
        for m in ("macro_recall", "macro_f1", "accuracy"):
            v[m] = {"mean": 0.3, "sd": 0.01, "ci95": [0.29, 0.31], "per_seed": [0.3]}
    versus = {n: {"difference": d, "ci95": [d - 0.01, d + 0.01], "significant": sig} for n, (d, sig) in diffs.items()}
    return {"variants": variants, "axes": {"x": {"best": "a", "versus_best": versus}}}


def test_conclusion_follows_significance():
    """All significant -> 'significantly better than every other'; none -> 'no difference ... significant'; mixed names both."""
    assert "significantly better than every other value (b, c)" in axis_conclusion("x", stats_with({"b": (-0.1, True), "c": (-0.2, True)}))
    assert "no difference to it is significant (b)" in axis_conclusion("x", stats_with({"b": (-0.001, False)}))
    mixed = axis_conclusion("x", stats_with({"b": (-0.001, False), "c": (-0.2, True)}))
    assert "b is not significantly different from it, while c is significantly worse" in mixed
    assert "is the only value run on this axis" in axis_conclusion("x", stats_with({}))


def test_axis_table_marks_significant_rows():
    """The table marks the best and stars significant differences."""
    table = axis_table("x", stats_with({"b": (-0.1, True)}))
    assert "| a | 0.300 ± 0.010 | [0.290, 0.310] |" in table and table.rstrip().endswith("-0.100 [-0.110, -0.090] * |")


def test_report_says_what_the_study_cannot_detect():
    """The method paragraph states the smallest difference found with 80% power at the study's seed count, and says
    that with one seed no difference is called significant."""
    assert "With 3 seeds a difference in macro recall smaller than about 0.046" in detectable_sentence(
        {"seeds": [0, 1, 2], "detectable": {"macro_recall": 0.046}})
    assert "no difference is called significant" in detectable_sentence({"seeds": [0], "detectable": None})


def test_conclusion_names_variants_stuck_at_chance():
    """Variants whose every seed has macro recall ~1/7 are named as predicting one class; others are not."""
    stats = stats_with({"b": (-0.15, True), "c": (-0.01, True)})
    stats["variants"]["b"]["macro_recall"]["per_seed"] = [1 / 7, 1 / 7, 0.1440]
    stats["variants"]["c"]["macro_recall"]["per_seed"] = [1 / 7, 0.20]
    text = axis_conclusion("x", stats)
    assert "b stays at chance macro recall (1/7 = 0.143) in every seed" in text
    assert "c stays" not in text and "b, c stay" not in text


def depth_stats() -> dict:
    """Depths 1 and 6 x sigmoid/relu, with relu best at both depths."""
    means = {"depth-1-sigmoid": 0.28, "depth-1-relu": 0.30, "depth-6-sigmoid": 1 / 7, "depth-6-relu": 0.26}
    variants = {n: {"axis": "depth_activation", "macro_recall": {"mean": m, "sd": 0.0, "ci95": [m, m], "per_seed": [m, m]}}
                for n, m in means.items()}
    spread = {"1": {"best": "depth-1-relu", "worst": "depth-1-sigmoid", "difference": 0.02, "ci95": [0.01, 0.03], "significant": True},
              "6": {"best": "depth-6-relu", "worst": "depth-6-sigmoid", "difference": 0.117, "ci95": [0.11, 0.12], "significant": True}}
    return {"variants": variants, "depth_spread": spread}


def test_depth_conclusion_reports_trend_and_per_activation_change():
    """The depth sentence states whether the gap grows, each activation's mean at the shallowest and deepest
    depth, and which variants collapsed to chance."""
    text = depth_conclusion(depth_stats())
    assert "gap grows from the shallowest to the deepest net" in text
    assert "from depth 1 to depth 6: sigmoid 0.280 → 0.143, relu 0.300 → 0.260." in text
    assert "depth-6-sigmoid stays at chance" in text


def test_integrated_sentence_names_winners_it_loses_to():
    """The integrated verdict says base-better/worse from the interval, and names axis winners significantly above it."""
    def d(against, diff, sig):
        return {"against": against, "difference": diff, "ci95": [diff - 0.01, diff + 0.01], "significant": sig}

    stats = {"variants": {"integrated": {"macro_recall": {"mean": 0.37, "sd": 0.03, "ci95": [0.35, 0.38]}}},
             "integrated": {"base": d("base", 0.07, True), "activation": d("activation-relu", 0.07, True),
                            "architecture": d("architecture-cnn", -0.09, True), "batch_size": d("batchsize-64", -0.001, False)}}
    text = integrated_section(stats, {"chosen": {"architecture": "cnn"}, "valid_macro_recall": {}})
    assert "The integrated model is significantly better than the base (+0.070, 95% CI [0.060, 0.080])." in text
    assert "It is significantly worse than architecture-cnn: combining the values chosen one axis at a time" in text
    assert "batchsize-64:" not in text
    stats["integrated"]["architecture"] = d("architecture-cnn", -0.001, False)
    assert "significantly worse than" not in integrated_section(stats, {"chosen": {}, "valid_macro_recall": {}})
