"""fer_pipeline.study_report: conclusions are written from the numbers (no sentence is fixed in advance)."""

from __future__ import annotations

from fer_pipeline.study_report import axis_conclusion, axis_table


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


def test_conclusion_flags_significant_differences_smaller_than_the_seed_sd():
    """A significant difference smaller than the seed-to-seed sd gets a caution naming that variant; larger ones do not."""
    stats = stats_with({"b": (-0.005, True), "c": (-0.2, True)})  # every sd is 0.01
    text = axis_conclusion("x", stats)
    assert "Caution: for b the difference is smaller than the seed-to-seed sd" in text
    assert "for c" not in text and "b, c the difference" not in text
    assert "Caution" not in axis_conclusion("x", stats_with({"c": (-0.2, True)}))
    assert "Caution" not in axis_conclusion("x", stats_with({"b": (-0.005, False)}))  # not called significant: no caution
