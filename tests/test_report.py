"""fer_pipeline.analysis.report: every verdict is written from the statistics (no sentence is fixed in advance): against
the control after Holm, degenerate variants named, the interaction, the integrated model's win or loss, the
original team's claims."""

from __future__ import annotations

import re

import numpy as np

from fer_pipeline.analysis.report import (
    axis_conclusion,
    axis_table,
    chance_note,
    claims_section,
    depth_conclusion,
    detectable_sentence,
    diff_cell,
    factorial_section,
    integrated_section,
    training_table,
)
from fer_pipeline.analysis.stats import stopping, study_stats

from .test_stats import STUDY, Y, crafted, learned, seeds_of, stats_for, with_factorial

CHOICE = {"chosen": {"activation": "sigmoid"}, "best_single": "activation-sigmoid",
          "valid_macro_recall": {"activation": {"base": [0.50] * 3, "sigmoid": [0.55] * 3, "tanh": [0.40] * 3}}}


def stats_of(same: dict[str, str] | None = None, **scores: float) -> dict:
    """study_stats of crafted runs; each variant `same` maps gets the very runs of the one it maps to: a
    difference of exactly 0, where two independent draws at one rate differ by chance (significantly in about
    5% of draws, the intervals being calibrated)."""
    families, data = crafted(**scores)
    data |= {name: data[source] for name, source in (same or {}).items()}
    return stats_for(families, data, CHOICE["best_single"])


def test_conclusion_follows_holm_verdicts_against_the_control():
    """A value far above the control is 'significantly above the control base'; one whose runs are the control's
    gets 'no difference from it shown'; the validation pick is named as choose's, not as the test best."""
    text = axis_conclusion("activation", stats_of({"activation-sigmoid": "base"}, base=0.6, activation_tanh=0.9), CHOICE)
    assert "against the control (base), Holm-adjusted within the axis: activation-tanh significantly above it" in text
    assert "no difference from it shown for activation-sigmoid" in text
    assert text.endswith("Chosen on validation (choose): sigmoid.")
    below = axis_conclusion("activation", stats_of(base=0.6, activation_tanh=0.3, activation_sigmoid=0.6), CHOICE)
    assert "activation-tanh significantly below it" in below


def test_axis_table_lists_the_control_first_and_stars_holm_significant_rows():
    """The control row says 'control'; a significant row carries p_Holm and a star, a null one no star; each
    compared row ends with its own detectable difference, and the note under the table says how the seed noise
    was counted."""
    stats = stats_of({"activation-sigmoid": "base"}, base=0.6, activation_tanh=0.9)
    table = axis_table("activation", stats)
    rows = table.splitlines()
    assert rows[2].startswith("| base |") and "| control | control |" in rows[2]
    tanh = next(r for r in rows if r.startswith("| activation-tanh |"))
    sigmoid = next(r for r in rows if r.startswith("| activation-sigmoid |"))
    assert "p_Holm=" in tanh and " * |" in tanh and " * |" not in sigmoid
    d = stats["axes"]["activation"]["versus_control"]["activation-tanh"]["macro_recall"]
    own = f"{d['detectable']:.3f}" + (f" (needs {d['seeds_needed']} seeds)" if d["detectable"] > d["target"] else "")
    assert tanh.endswith(f"| {own} |")  # its own detectable difference, and the seeds it would need for 0.03
    how = "pooled over the 3 variants" if d["method"] == "pooled" else "each pair's own"
    assert f"Seed noise of the macro-recall differences: {how}" in table


def test_degenerate_variant_is_named_and_not_compared():
    """A variant at chance on validation in every seed is named in the conclusion and its row says it was left out."""
    families, data = crafted(base=0.6)
    data["activation-sigmoid"] = [(Y, np.full_like(Y, 3)) for _ in range(3)]
    stats = stats_for(families, data, chance=("activation-sigmoid",))
    text = axis_conclusion("activation", stats, CHOICE)
    assert "activation-sigmoid stays at chance macro recall (1/7 = 0.143) in every seed on validation" in text
    assert "| degenerate: left out |" in axis_table("activation", stats)


def test_report_says_what_the_study_cannot_detect():
    """The method paragraph states the smallest difference found with 80% power at the study's seed count, and says
    that with one seed no difference is called significant."""
    assert "With 3 seeds a difference in macro recall smaller than about 0.046" in detectable_sentence(
        {"detectable": {"macro_recall": 0.046}}, 3)
    assert "no difference is called significant" in detectable_sentence({"detectable": None}, 1)


def test_depth_conclusion_reports_the_interaction():
    """A shown interaction is named with its interval; without one the claim is said to be unsupported."""
    shown = depth_conclusion(stats_of(base=0.6, activation_tanh=0.6, depth_3_relu=0.6, depth_3_tanh=0.9))
    assert re.search(r"\| depth 3: tanh vs relu \| \+0\.(2[7-9]|3[0-3])\d", shown)
    assert "Activations differ more (or less) with depth for: depth 3: tanh vs relu." in shown
    none = depth_conclusion(stats_of({"depth-3-tanh": "activation-tanh", "depth-3-relu": "base"}, base=0.6, activation_tanh=0.6))
    assert "No interaction between depth and activation is shown" in none


def factorial_stats(**scores: float) -> tuple[dict, dict]:
    """stats of test_stats.with_factorial's study (integrated = factorial-1, the sigmoid point at mlp3) and a
    design.json with its validation fit: the activation effect kept, the optimizer's not."""
    families, data, design = with_factorial(**scores)
    effects = {"activation": {"effect": 0.05, "se": 0.01, "kept": True}, "optimizer": {"effect": 0.001, "se": 0.01, "kept": False},
               "activation×optimizer": {"effect": -0.002, "se": 0.01, "kept": False}}
    design |= {"points": [{"variant": v.name, "levels": {}, "valid_macro_recall": [0.5], "fitted": 0.5}
                          for v in families["factorial"]],
               "fit": {"effects": effects, "df": 9, "keep_bound": 1.83, "sigma2": 1e-4},
               "why": "the design point with the best fitted validation macro recall"}
    return stats_for(families, data, "activation-sigmoid", design), design


def test_integrated_section_says_whether_it_wins():
    """Against the best single variant on validation: 'wins' only when significantly above, 'loses' when below,
    'does not win' otherwise; the integrated model is named as the design point it is, with its seeds."""
    stats, design = factorial_stats(base=0.5, activation_sigmoid=0.6, factorial_1=0.8)
    win = integrated_section(stats, design)
    assert "The integrated model wins: it is significantly above activation-sigmoid" in win
    assert "It is a point of the design, trained once with its seeds (0, 1, 2)" in win
    stats, design = factorial_stats(base=0.5, activation_sigmoid=0.6, factorial_1=0.3)
    assert "The integrated model loses: it is significantly below activation-sigmoid" in integrated_section(stats, design)
    families, data, design = with_factorial(base=0.5, activation_sigmoid=0.6)
    data["factorial-1"] = data["activation-sigmoid"]
    tie = integrated_section(stats_for(families, data, "activation-sigmoid", design), factorial_stats()[1])
    assert "does not win: no difference is shown from activation-sigmoid" in tie


def test_factorial_section_reports_the_fit_and_the_test_effects():
    """The factorial's tables give each point and each effect: its validation estimate ± se, whether it is in the
    model, its test estimate with the Holm-adjusted interval and verdict; an effect shown on test is named; with
    no pick to carry the section says so."""
    stats, design = factorial_stats(base=0.5, architecture_mlp3=0.6, factorial_1=0.8, factorial_3=0.8)
    text = factorial_section(stats, design)
    assert "in a full two-level design of 4 configurations" in text
    row = next(r for r in text.splitlines() if r.startswith("| activation |"))
    assert row.startswith("| activation | +0.050 ± 0.010 | yes | +0.") and row.endswith("| higher |")
    assert "| optimizer | +0.001 ± 0.010 | no |" in text
    assert "On test, the effects shown after Holm: activation" in text
    assert factorial_section(stats, {"architecture": "cnn", "factors": [], "why": "no pick to carry"}) == \
        "No factorial: no pick to carry (cnn)."


def test_chance_note_agrees_in_number():
    """One degenerate variant 'is flagged', several 'are flagged'."""
    assert "so it is flagged" in chance_note(["a"]) and "so they are flagged" in chance_note(["a", "b"])


CONTROL = {"model": {"family": "mlp", "hidden": [256], "channels": [8], "activation": "relu", "dropout": 0.0, "batch_norm": False},
           "train": {"optimizer": "adam", "lr": 0.001, "batch_size": 32, "imbalance": "none", "max_epochs": 15, "patience": 3}}


def test_the_base_is_named_by_its_own_values():
    """Where the base wins a factor on validation, the report names the base's value (the base (relu)), and the
    method paragraph describes the control from the base run's settings."""
    choice = CHOICE | {"chosen": {"activation": "base"}}
    text = axis_conclusion("activation", stats_of(base=0.6), choice, CONTROL)
    assert text.endswith("Chosen on validation (choose): the base (relu).")
    claims = claims_section(stats_of(base=0.9), CHOICE, CONTROL)
    assert "Highest on validation: sigmoid; on test: the base (relu)." in claims


def test_claims_are_answered_from_the_numbers():
    """(a) names the validation and test leaders from the numbers; (d) lists comparisons whose verdict differs
    between macro recall and accuracy, or says none does."""
    text = claims_section(stats_of({"activation-sigmoid": "base"}, base=0.6, activation_tanh=0.9), CHOICE)
    assert "Highest on validation: sigmoid; on test: tanh." in text
    assert "No axis verdict changes when accuracy replaces macro recall." in text


def test_claim_b_is_answered_by_the_activation_axis_and_the_cap_count():
    """(b), that tanh wins with more epochs, is the activation axis's tanh verdict, since every run trains until
    patience stops it; the sentence says whether the cap cut any run, and names the runs it cut."""
    families, data = crafted(base=0.6, activation_tanh=0.8)
    full = stats_for(families, data, "base")
    free = claims_section(full, CHOICE, stopping=stopping(learned(data), 60))
    assert "No run reached the cap of 60 epochs (the longest trained 10)" in free
    # The crafted runs come from test_stats' shared generator, so their draw (and p) depends on which tests ran first:
    # the sentence is checked against the numbers it reports, not against one draw's p.
    tanh = full["axes"]["activation"]["versus_control"]["activation-tanh"]["macro_recall"]
    assert tanh["significant_holm"] and 0.17 <= tanh["difference"] <= 0.24
    assert f"tanh against the base on test: {diff_cell(tanh)} (higher)." in free
    cut = stopping(learned(data, capped=("activation-tanh",)), 60)
    text = claims_section(full, CHOICE, stopping=cut)
    assert cut["capped"] == ["activation-tanh/s0", "activation-tanh/s1", "activation-tanh/s2"]
    assert f"3 of {cut['runs']} runs reached the cap of 60 epochs before patience stopped them" in text
    assert "raise study.train.max_epochs" in text


def test_training_table_counts_what_stopped_each_variant():
    """The training-length table gives each variant's epochs and kept epochs over seeds (a range when they differ)
    and how many of its seeds patience stopped."""
    families, data = crafted(base=0.6)
    training = learned(data, capped=("activation-tanh",))
    training["base"]["epochs_trained"] = [9, 12, 11]
    table = training_table(study_stats(families, data, 200, STUDY, "base", training, seeds_of(data)))
    assert "| base | 9-12 | 7 | 3 of 3 |" in table
    assert "| activation-tanh | 60 | 57 | 0 of 3 |" in table


def test_printed_intervals_agree_with_the_verdict_beside_them():
    """Every difference the axis tables print has its Holm-adjusted interval: it excludes 0 exactly when the row
    is starred significant after Holm, on a crafted study with clear, borderline and null differences (where
    unadjusted intervals can exclude 0 beside a 'no difference shown')."""
    import re

    rows, checked = [], 0
    for seed_scores in ({"activation_tanh": 0.63, "activation_sigmoid": 0.61}, {"activation_tanh": 0.9, "activation_sigmoid": 0.62},
                        {"activation_tanh": 0.615, "activation_sigmoid": 0.585}):
        stats = stats_of(base=0.6, **seed_scores)
        rows += [r for axis in stats["axes"] for r in axis_table(axis, stats).splitlines() if "p_Holm=" in r]
        for a in stats["axes"].values():
            for d in a["versus_control"].values():
                lo, hi = d["macro_recall"]["ci_holm"]
                assert (lo > 0 or hi < 0) == d["macro_recall"]["significant_holm"]
    for row in rows:
        for cell in row.split("|")[6:8]:
            lo, hi = map(float, re.search(r"\[(-?[0-9.]+), (-?[0-9.]+)\]", cell).groups())
            assert (lo > 0 or hi < 0) == cell.rstrip().endswith("*"), row
            checked += 1
    assert checked >= 20
