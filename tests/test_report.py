"""fer_pipeline.analysis.report: every verdict is written from the statistics (no sentence is fixed in advance): against
the control after Holm, degenerate variants named, the interaction, the integrated model's win or loss, the
original team's claims."""

from __future__ import annotations

import re

import numpy as np

from fer_pipeline.analysis.report import (
    axis_conclusion,
    axis_table,
    carryover_section,
    chance_note,
    claims_section,
    depth_conclusion,
    detectable_sentence,
    integrated_section,
    training_table,
)
from fer_pipeline.analysis.stats import stopping, study_stats

from .test_stats import STUDY, Y, crafted, learned, with_round

CHOICE = {"chosen": {"activation": "sigmoid"}, "best_single": "activation-sigmoid",
          "valid_macro_recall": {"activation": {"base": [0.50] * 3, "sigmoid": [0.55] * 3, "tanh": [0.40] * 3}}}
DESIGN = {"architecture": "base", "round": {}, "integrated": {"architecture": "base", "activation": "sigmoid"},
          "predicted_valid_macro_recall": None, "why": "the chosen architecture is the base's"}


def stats_of(same: dict[str, str] | None = None, **scores: float) -> dict:
    """study_stats of crafted runs; each variant `same` maps gets the very runs of the one it maps to: a
    difference of exactly 0, where two independent draws at one rate differ by chance (significantly in about
    5% of draws, the intervals being calibrated)."""
    families, data = crafted(**scores)
    data |= {name: data[source] for name, source in (same or {}).items()}
    return study_stats(families, data, 200, STUDY, best_single=CHOICE["best_single"], training=learned(data))


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
    assert tanh.endswith(f"| {d['detectable']:.3f} |")  # its own detectable difference
    how = "pooled over the 3 variants" if d["method"] == "pooled" else "each pair's own"
    assert f"Seed noise of the macro-recall differences: {how}" in table


def test_degenerate_variant_is_named_and_not_compared():
    """A variant at chance on validation in every seed is named in the conclusion and its row says it was left out."""
    families, data = crafted(base=0.6)
    data["activation-sigmoid"] = [(Y, np.full_like(Y, 3)) for _ in range(3)]
    stats = study_stats(families, data, 200, STUDY, best_single="base", training=learned(data, chance=("activation-sigmoid",)))
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
    assert re.search(r"\| depth 3: tanh vs relu \| \+0\.(29|30|31)\d", shown) and "Activations differ more (or less) with depth for: depth 3: tanh vs relu." in shown
    none = depth_conclusion(stats_of({"depth-3-tanh": "activation-tanh", "depth-3-relu": "base"}, base=0.6, activation_tanh=0.6))
    assert "No interaction between depth and activation is shown" in none


def test_integrated_section_says_whether_it_wins():
    """Against the best single variant on validation: 'wins' only when significantly above, 'loses' when below,
    'does not win' otherwise."""
    win = integrated_section(stats_of(base=0.5, activation_sigmoid=0.6, integrated=0.8), DESIGN, [10, 11, 12])
    assert "The integrated model wins: it is significantly above activation-sigmoid" in win
    assert "Confirmed on fresh seeds (10, 11, 12)" in win and "activation = sigmoid (the chosen architecture is the base's)" in win
    lose = integrated_section(stats_of(base=0.5, activation_sigmoid=0.6, integrated=0.3), DESIGN, [10, 11, 12])
    assert "The integrated model loses: it is significantly below activation-sigmoid" in lose
    tie = integrated_section(stats_of({"integrated": "activation-sigmoid"}, base=0.5, activation_sigmoid=0.6), DESIGN, [10, 11, 12])
    assert "does not win: no difference is shown from activation-sigmoid" in tie


def test_carryover_section_reports_fit_and_contrasts():
    """The round's table gives each pick's validation effects and whether the integrated model kept it, its test
    effect on the architecture and its carry-over contrast; a pick that acts differently on the architecture is
    named; without a round the section says why."""
    families, data = with_round(base=0.5, activation_sigmoid=0.7, architecture_mlp3=0.6, carryover_activation=0.6)
    data |= {"optimizer-sgd": data["base"], "carryover-optimizer": data["architecture-mlp3"]}  # sgd changes nothing
    stats = study_stats(families, data, 200, STUDY, best_single="activation-sigmoid", training=learned(data))
    design = {"architecture": "mlp3", "round": {
        "activation": {"value": "sigmoid", "effect_at_base": 0.2, "effect_at_architecture": -0.01, "kept": False},
        "optimizer": {"value": "sgd", "effect_at_base": 0.0, "effect_at_architecture": 0.01, "kept": True}}}
    text = carryover_section(stats, design)
    row = next(r for r in text.splitlines() if r.startswith("| activation=sigmoid |"))
    assert row.startswith("| activation=sigmoid | +0.200 | -0.010 | no | ") and "lower |" in row
    assert "| optimizer=sgd | +0.000 | +0.010 | yes |" in text
    assert "Picks whose effect differs between the two architectures: activation=sigmoid." in text
    assert carryover_section(stats, DESIGN) == "No carry-over round: the chosen architecture is the base's."


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
    full = study_stats(families, data, 200, STUDY, best_single="base", training=learned(data))
    free = claims_section(full, CHOICE, stopping=stopping(learned(data), 60))
    assert "No run reached the cap of 60 epochs (the longest trained 10)" in free
    assert re.search(r"tanh against the base on test: \+0\.(19|20|21)\d \[.*\] p_Holm=0\.000 \* \(higher\)\.", free)
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
    table = training_table(study_stats(families, data, 200, STUDY, best_single="base", training=training))
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
