"""The stats stage's work: per-variant summaries over seeds, each axis against its control, the depth x
activation interaction and the integrated model's confirmation, on the full test set and on the deduplicated one.

References are fixed before test is read: every axis compares its values with the base (the pre-specified
control), with Holm's adjustment within the axis; the only "best" is choose's validation pick. A variant at
chance on validation in every seed is flagged degenerate and left out of its family instead of getting a
comparison: the flag shapes the families, so it is decided on validation, never on test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fer_pipeline import paths
from fer_pipeline.analysis.bootstrap import (
    Scores,
    bootstrap_counts,
    family_comparisons,
    per_class_recall,
    run_scores,
    summarize_variant,
    verdict,
)
from fer_pipeline.analysis.variants import (
    BASE,
    BASE_DEPTH,
    GRIDS,
    Variant,
    axis_variant,
    depth_grid,
    study_families,
    trained,
    variant_seeds,
)
from fer_pipeline.data.dataset import data_label
from fer_pipeline.io import atomic_path, read_json, write_json
from fer_pipeline.metrics import CHANCE
from fer_pipeline.params import StudyParams
from fer_pipeline.training.results import read_predictions

Runs = list[tuple[np.ndarray, np.ndarray]]
TEST_SETS = ("test", "test_dedup")  # all 7,178 test images; those without a twin in train
COMPARED = ("macro_recall", "accuracy")  # the study's metric, and the one the original team ranked by


def load_runs(families: dict[str, list[Variant]], study: StudyParams) -> dict[str, dict[str, Runs]]:
    """Test set -> variant name -> the (true, predicted) arrays of each seed's run (the integrated model's
    confirmation seeds for it); test_dedup keeps the images without a train twin."""
    out: dict[str, dict[str, Runs]] = {t: {} for t in TEST_SETS}
    for v in trained(families).values():
        for s in variant_seeds(v, study):
            true, pred, twin = read_predictions(v.run(s))
            out["test"].setdefault(v.name, []).append((true, pred))
            out["test_dedup"].setdefault(v.name, []).append((true[~twin], pred[~twin]))
    return out


TRAINING = ("epochs_trained", "best_epoch", "stop_reason")  # how each run's training ended (DVCLive's summary)


def load_training(families: dict[str, list[Variant]], study: StudyParams) -> dict[str, dict[str, list[Any]]]:
    """Variant name -> per seed (load_runs' order), from each run's DVCLive summary: the validation macro recall at
    its kept epoch ("valid_macro_recall"), the epochs it trained, its kept epoch and what stopped it. All of it is
    training and validation: the degenerate flag and the stopping table never read test."""
    out: dict[str, dict[str, list[Any]]] = {}
    for v in trained(families).values():
        summaries = [read_json(paths.live_summary(v.run(s))) for s in variant_seeds(v, study)]
        out[v.name] = {"valid_macro_recall": [float(x["valid"]["macro_recall"]) for x in summaries],
                       **{k: [x[k] for x in summaries] for k in TRAINING}}
    return out


def stopping(training: dict[str, dict[str, list[Any]]], max_epochs: int) -> dict[str, Any]:
    """Whether the epoch cap cut the study's runs: the runs stopped by it (max_epochs) rather than by patience, by
    name, and the most epochs any run trained. A run the cap stopped had improved on validation within its last
    `patience` epochs, so its variant's verdicts depend on the cap; the report says so."""
    capped = [f"{name}/s{i}" for name, t in training.items() for i, r in enumerate(t["stop_reason"]) if r == "max_epochs"]
    return {"max_epochs": max_epochs, "runs": sum(len(t["stop_reason"]) for t in training.values()),
            "capped": capped, "most_epochs": max(e for t in training.values() for e in t["epochs_trained"])}


def degenerate(valid_macro_recall: list[float]) -> bool:
    """At chance validation macro recall in every seed: the network learned to predict (about) one class."""
    return max(valid_macro_recall) < CHANCE + 0.005


def compare(scores: dict[str, Scores], pairs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Paired differences a - b for each named pair, in each COMPARED metric, as one family
    (bootstrap.family_comparisons: seed noise pooled over the family's variants where homogeneous, Holm within
    the family per metric)."""
    out: dict[str, Any] = {label: {} for label in pairs}
    for m in COMPARED:
        if pairs:
            named = {label: {a: 1.0, b: -1.0} for label, (a, b) in pairs.items()}
            for label, c in family_comparisons({v: s[m] for v, s in scores.items()}, named).items():
                out[label][m] = c
    for label, (_, b) in pairs.items():
        out[label]["against"] = b
    return out


def contrasts(named: dict[str, list[Variant]], scores: dict[str, Scores], summaries: dict[str, Any]) -> dict[str, Any]:
    """2x2 interaction contrasts, each label's four cells weighted (+1, -1, -1, +1), paired by seed and image, one
    family (bootstrap.family_comparisons, Holm within it); a contrast with a degenerate cell is left out (that cell
    carries no effect to compare)."""
    out: dict[str, Any] = {"contrasts": {}, "excluded": []}
    weights: dict[str, dict[str, float]] = {}
    for label, cells in named.items():
        if any(summaries[c.name]["degenerate"] for c in cells):
            out["excluded"].append(label)
            continue
        weights[label] = {}
        for c, w in zip(cells, (1.0, -1.0, -1.0, 1.0), strict=True):
            weights[label][c.name] = weights[label].get(c.name, 0.0) + w
    if weights:
        fits = family_comparisons({v: s["macro_recall"] for v, s in scores.items()}, weights)
        out["contrasts"] = {label: {"cells": [c.name for c in named[label]], **fits[label]} for label in weights}
    return out


def interaction(study: StudyParams, family: list[Variant], scores: dict[str, Scores], summaries: dict[str, Any]) -> dict[str, Any]:
    """Depth x activation: for each deeper depth d and activation a, (a at d - a at depth 1) - (ref at d - ref at
    depth 1), ref being the base's activation."""
    grid = depth_grid(study, family)
    ref = next((a for a in study.depth_activations if grid[(BASE_DEPTH, a)].axis == "base"), study.depth_activations[0])
    named = {f"depth {d}: {a} vs {ref}": [grid[(d, a)], grid[(BASE_DEPTH, a)], grid[(d, ref)], grid[(BASE_DEPTH, ref)]]
             for d in study.depths for a in study.depth_activations if a != ref}
    return {"reference": ref, **contrasts(named, scores, summaries)}


def carryover(family: list[Variant], scores: dict[str, Scores], summaries: dict[str, Any]) -> dict[str, Any]:
    """Whether each one-factor pick carries over to the chosen architecture: (architecture + pick - architecture)
    - (base + pick - base); zero when the pick does on the architecture what it did on the base MLP."""
    arch = family[0]
    named = {f"{v.settings[-1][0]}={v.settings[-1][1]}": [v, arch, axis_variant(*v.settings[-1]), BASE] for v in family[1:]}
    return {"control": arch.name, **contrasts(named, scores, summaries)}


def study_stats(families: dict[str, list[Variant]], runs: dict[str, Runs], resamples: int, study: StudyParams,
                best_single: str | None, training: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """On one test set: summaries per variant, each axis against its control (the carry-over round against the
    chosen architecture), the depth interaction, the carry-over contrasts, and the integrated model against the
    base, against `best_single` (the study variant with the best validation macro recall) and against the chosen
    architecture alone. `training` (load_training) decides which variants are degenerate, on validation."""
    n = len(next(iter(runs.values()))[0][0])
    boot = bootstrap_counts(n, resamples, seed=0)
    out: dict[str, Any] = {"test_images": n, "variants": {}, "axes": {}}
    scores = {v: run_scores(r, boot) for v, r in runs.items()}
    for v in trained(families).values():
        summary = summarize_variant(runs[v.name], boot)
        out["variants"][v.name] = {"axis": v.axis, "value": v.value, "settings": dict(v.settings), **summary,
                                   "recall_per_class": per_class_recall(runs[v.name]), **training[v.name],
                                   "degenerate": degenerate(training[v.name]["valid_macro_recall"])}
    for axis, vs in families.items():
        if axis in ("base", "integrated", *GRIDS) or not vs:
            continue
        control, others = vs[0].name, [v.name for v in vs[1:]]
        kept = [n for n in others if not out["variants"][n]["degenerate"]]
        out["axes"][axis] = {"family": [v.name for v in vs], "control": control,
                             "degenerate": [n for n in others if n not in kept],
                             "versus_control": compare(scores, {n: (n, control) for n in kept})}
    own = [d["macro_recall"]["detectable"] for a in out["axes"].values() for d in a["versus_control"].values()]
    # the median of the comparisons' own detectable differences (each after Holm in its family)
    out["detectable"] = {"macro_recall": float(np.median(own))} if own and None not in own else None
    if "depth_activation" in families:
        out["depth_interaction"] = interaction(study, families["depth_activation"], scores, out["variants"])
    if families.get("carryover"):
        out["carryover"] = carryover(families["carryover"], scores, out["variants"])
    if "integrated" in families:
        pairs = {"base": ("integrated", "base")}
        if best_single and best_single != "base":
            pairs["best single variant"] = ("integrated", best_single)
        arch = families["carryover"][0].name if families.get("carryover") else None
        if arch and arch != best_single:
            pairs["chosen architecture alone"] = ("integrated", arch)
        out["integrated"] = compare(scores, pairs)
    return out


def disagreements(by_set: dict[str, dict[str, Any]]) -> list[str]:
    """Comparisons whose Holm verdict (significant or not, and its sign) differs between the full and the
    deduplicated test set."""
    full, dedup = by_set["test"], by_set["test_dedup"]
    out = []
    for axis, a in full["axes"].items():
        for name, d in a["versus_control"].items():
            other = dedup["axes"][axis]["versus_control"].get(name)
            if other and verdict(d["macro_recall"]) != verdict(other["macro_recall"]):
                out.append(f"{name} vs {a['control']}: {verdict(d['macro_recall'])} on the full test set, "
                           f"{verdict(other['macro_recall'])} on the deduplicated one")
    return out


def axis_metrics(stats: dict[str, Any], families: dict[str, list[Variant]]) -> dict[str, dict[str, float]]:
    """Per axis, {variant: mean test macro recall} on the full test set: the short table `dvc metrics show` prints."""
    return {axis: {v.name: round(stats["variants"][v.name]["macro_recall"]["mean"], 4) for v in vs}
            for axis, vs in families.items()}


def write_stats(study: StudyParams) -> str:  # type: ignore[valid-type]
    """The stats stage: every study run's test predictions -> data/stats/stats.json, metrics/study/<family>.json and
    plots/study/variants.csv; returns the line the stage prints."""
    choice = read_json(paths.CHOICE)
    families = study_families(study, choice)
    runs = load_runs(families, study)
    best_single = choice["best_single"]
    training = load_training(families, study)
    by_set = {t: study_stats(families, runs[t], study.bootstrap, study, best_single, training) for t in TEST_SETS}
    label = data_label()
    write_json(paths.STATS, {"data": label, "seeds": list(study.seeds), "confirm_seeds": list(study.confirm_seeds),
                             "bootstrap_resamples": study.bootstrap, "best_single": best_single,
                             "stopping": stopping(training, study.train.max_epochs), **by_set,
                             "dedup_disagreements": disagreements(by_set)})
    stats = by_set["test"]
    for axis, table in axis_metrics(stats, families).items():
        write_json(paths.study_metrics_file(axis), {"data": label, "test_macro_recall": table})
    rows = [{"axis": s["axis"], "variant": name, "macro_recall": s["macro_recall"]["mean"],
             "ci_low": s["macro_recall"]["ci95"][0], "ci_high": s["macro_recall"]["ci95"][1]}
            for name, s in stats["variants"].items()]
    with atomic_path(paths.STUDY_PLOT) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    flagged = [n for n, s in stats["variants"].items() if s["degenerate"]]
    return (f"stats [{label}]: {len(rows)} variants x {len(study.seeds)} seeds, {study.bootstrap} bootstrap resamples; "
            f"degenerate: {', '.join(flagged) or 'none'}")
