"""The stats stage's work: per-variant summaries over seeds, each axis against its control, the depth x
activation interaction, the factorial's effects and the integrated model's comparisons, on the full test set and
on the deduplicated one.

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
from fer_pipeline.analysis import factorial
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
    FACTORIAL,
    GRIDS,
    Variant,
    depth_grid,
    study_families,
    trained,
    variant_seeds,
)
from fer_pipeline.data.dataset import data_label
from fer_pipeline.io import atomic_path, read_json, write_json
from fer_pipeline.metrics import CHANCE, HEADLINE, headline
from fer_pipeline.params import PresetsParams, StudyParams
from fer_pipeline.training.results import read_predictions

Runs = list[tuple[np.ndarray, np.ndarray]]
Seeds = dict[str, tuple[int, ...]]  # variant name -> its seeds, in its runs' order (variants.variant_seeds)
TEST_SETS = ("test", "test_dedup")  # all 7,178 test images; those without a twin in train
COMPARED = ("macro_recall", "accuracy")  # the study's metric, and the one the original team ranked by


def load_runs(families: dict[str, list[Variant]], seeds: Seeds) -> dict[str, dict[str, Runs]]:
    """Test set -> variant name -> the (true, predicted) arrays of each seed's run (`seeds`: by variant);
    test_dedup keeps the images without a train twin."""
    out: dict[str, dict[str, Runs]] = {t: {} for t in TEST_SETS}
    for v in trained(families).values():
        for s in seeds[v.name]:
            true, pred, twin = read_predictions(v.run(s))
            out["test"].setdefault(v.name, []).append((true, pred))
            out["test_dedup"].setdefault(v.name, []).append((true[~twin], pred[~twin]))
    return out


TRAINING = ("epochs_trained", "best_epoch", "stop_reason")  # how each run's training ended (DVCLive's summary)


def load_training(families: dict[str, list[Variant]], seeds: Seeds) -> dict[str, dict[str, list[Any]]]:
    """Variant name -> per seed (load_runs' order), from each run's DVCLive summary: the validation macro recall at
    its kept epoch ("valid_macro_recall"), the epochs it trained, its kept epoch and what stopped it. All of it is
    training and validation: the degenerate flag and the stopping table never read test."""
    out: dict[str, dict[str, list[Any]]] = {}
    for v in trained(families).values():
        summaries = [read_json(paths.live_summary(v.run(s))) for s in seeds[v.name]]
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


def compare(scores: dict[str, Scores], pairs: dict[str, tuple[str, str]], seeds: Seeds,
            target: float | None = None) -> dict[str, Any]:
    """Paired differences a - b for each named pair, in each COMPARED metric, as one family
    (bootstrap.family_comparisons: on the seeds each pair shares, seed noise pooled over the family's variants
    where homogeneous, Holm within the family per metric; with `target`, the seeds each would need to detect it)."""
    out: dict[str, Any] = {label: {} for label in pairs}
    for m in COMPARED:
        if pairs:
            named = {label: {a: 1.0, b: -1.0} for label, (a, b) in pairs.items()}
            for label, c in family_comparisons({v: s[m] for v, s in scores.items()}, named, seeds=seeds,
                                               target=target if m == "macro_recall" else None).items():
                out[label][m] = c
    for label, (_, b) in pairs.items():
        out[label]["against"] = b
    return out


def contrasts(named: dict[str, dict[str, float]], scores: dict[str, Scores], summaries: dict[str, Any],
              seeds: Seeds) -> dict[str, Any]:
    """Contrasts ({variant: weight}, weights summing to 0) in macro recall, paired by seed and image, one family
    (bootstrap.family_comparisons, Holm within it); a contrast with a degenerate cell is left out (that cell
    carries no effect to compare)."""
    out: dict[str, Any] = {"contrasts": {}, "excluded": []}
    kept = {}
    for label, weights in named.items():
        if any(summaries[c]["degenerate"] for c in weights):
            out["excluded"].append(label)
        else:
            kept[label] = weights
    if kept:
        fits = family_comparisons({v: s["macro_recall"] for v, s in scores.items()}, kept, seeds=seeds)
        out["contrasts"] = {label: {"cells": list(kept[label]), **fits[label]} for label in kept}
    return out


def cells(variants: list[Variant], weights: tuple[float, ...]) -> dict[str, float]:
    """A 2x2 contrast's weights by variant name (a variant in two cells sums its weights)."""
    out: dict[str, float] = {}
    for v, w in zip(variants, weights, strict=True):
        out[v.name] = out.get(v.name, 0.0) + w
    return out


def interaction(study: StudyParams, family: list[Variant], scores: dict[str, Scores], summaries: dict[str, Any],  # type: ignore[valid-type]
                seeds: Seeds) -> dict[str, Any]:
    """Depth x activation: for each deeper depth d and activation a, (a at d - a at depth 1) - (ref at d - ref at
    depth 1), ref being the base's activation."""
    grid = depth_grid(study, family)
    ref = next((a for a in study.depth_activations if grid[(BASE_DEPTH, a)].axis == "base"), study.depth_activations[0])
    named = {f"depth {d}: {a} vs {ref}": cells([grid[(d, a)], grid[(BASE_DEPTH, a)], grid[(d, ref)], grid[(BASE_DEPTH, ref)]],
                                               (1.0, -1.0, -1.0, 1.0))
             for d in study.depths for a in study.depth_activations if a != ref}
    return {"reference": ref, **contrasts(named, scores, summaries, seeds)}


def factorial_effects(family: list[Variant], design: dict[str, Any], scores: dict[str, Scores],
                      summaries: dict[str, Any], seeds: Seeds) -> dict[str, Any]:
    """The factorial's effects on test: each main effect and visible two-factor interaction (alias sets named as
    analysis.factorial.columns names them) as a contrast of the points, Holm within the factorial."""
    factors = design["factors"]
    cols = factorial.columns(factors, factorial.fraction(len(factors)))
    named = {name: {v.name: float(w) for v, w in zip(family, factorial.effect_weights(col), strict=True)}
             for name, col in cols.items()}
    return {"architecture": design["architecture"], "factors": factors, **contrasts(named, scores, summaries, seeds)}


def study_stats(families: dict[str, list[Variant]], runs: dict[str, Runs], resamples: int, study: StudyParams,  # type: ignore[valid-type]
                best_single: str | None, training: dict[str, dict[str, list[Any]]], seeds: Seeds,
                design: dict[str, Any] | None = None) -> dict[str, Any]:
    """On one test set: summaries per variant, each axis against its control, the depth interaction, the
    factorial's effects, and the integrated model (design.json's best point) against the base, against
    `best_single` (the study variant with the best validation macro recall) and against the chosen architecture
    alone. `training` (load_training) decides which variants are degenerate, on validation; `seeds` names each
    variant's seeds, so a CNN with fewer pairs with an MLP on the seeds they share."""
    n = len(next(iter(runs.values()))[0][0])
    boot = bootstrap_counts(n, resamples, seed=0)
    out: dict[str, Any] = {"test_images": n, "variants": {}, "axes": {}}
    scores = {v: run_scores(r, boot) for v, r in runs.items()}
    for v in trained(families).values():
        summary = summarize_variant(runs[v.name], boot)
        out["variants"][v.name] = {"axis": v.axis, "value": v.value, "settings": dict(v.settings), **summary,
                                   "seed_ids": list(seeds[v.name]), "recall_per_class": per_class_recall(runs[v.name]),
                                   **training[v.name], "degenerate": degenerate(training[v.name]["valid_macro_recall"])}
    for axis, vs in families.items():
        if axis in ("base", FACTORIAL, *GRIDS) or not vs:
            continue
        control, others = vs[0].name, [v.name for v in vs[1:]]
        kept = [n for n in others if not out["variants"][n]["degenerate"]]
        out["axes"][axis] = {"family": [v.name for v in vs], "control": control,
                             "degenerate": [n for n in others if n not in kept],
                             "versus_control": compare(scores, {n: (n, control) for n in kept}, seeds, study.detect)}
    own = [d["macro_recall"]["detectable"] for a in out["axes"].values() for d in a["versus_control"].values()]
    # the median of the comparisons' own detectable differences (each after Holm in its family)
    out["detectable"] = {"macro_recall": float(np.median(own))} if own and None not in own else None
    if "depth_activation" in families:
        out["depth_interaction"] = interaction(study, families["depth_activation"], scores, out["variants"], seeds)
    if design and len(families.get(FACTORIAL, [])) > 1:
        out[FACTORIAL] = factorial_effects(families[FACTORIAL], design, scores, out["variants"], seeds)
    if design:
        integrated, alone = design["integrated"]["variant"], families[FACTORIAL][0].name
        pairs = {"base": (integrated, BASE.name)} if integrated != BASE.name else {}
        if best_single and best_single not in (BASE.name, integrated):
            pairs["best single variant"] = (integrated, best_single)
        if alone not in (integrated, best_single, BASE.name):
            pairs["chosen architecture alone"] = (integrated, alone)
        out["integrated"] = {"variant": integrated, "versus": compare(scores, pairs, seeds)}
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


def integrated_headline(by_set: dict[str, Any], label: str) -> dict[str, float | str]:
    """The study's line in `dvc metrics show`: the integrated model's headline scores (metrics.headline), means
    over its seeds; the per-variant table is plots/study/variants.csv and stats.json."""
    name = by_set["test"]["integrated"]["variant"]
    test, dedup = ({k: s["variants"][name][k]["mean"] for k in HEADLINE} for s in (by_set["test"], by_set["test_dedup"]))
    return headline(label, test, dedup)


def write_stats(study: StudyParams, presets: PresetsParams) -> str:  # type: ignore[valid-type]
    """The stats stage: every study run's test predictions -> data/stats/stats.json, metrics/study/integrated.json
    and plots/study/variants.csv; returns the line the stage prints."""
    choice, design = read_json(paths.CHOICE), read_json(paths.DESIGN)
    families = study_families(study, choice)
    seeds = {v.name: variant_seeds(v, study, presets) for v in trained(families).values()}
    runs = load_runs(families, seeds)
    best_single = choice["best_single"]
    training = load_training(families, seeds)
    by_set = {t: study_stats(families, runs[t], study.bootstrap, study, best_single, training, seeds, design)
              for t in TEST_SETS}
    label = data_label()
    write_json(paths.STATS, {"data": label, "seeds": list(study.seeds), "cnn_seeds": list(study.cnn_seeds),
                             "bootstrap_resamples": study.bootstrap, "best_single": best_single,
                             "stopping": stopping(training, study.train.max_epochs), **by_set,
                             "dedup_disagreements": disagreements(by_set)})
    stats = by_set["test"]
    write_json(paths.STUDY_HEADLINE, integrated_headline(by_set, label))
    rows = [{"axis": s["axis"], "variant": name, "macro_recall": s["macro_recall"]["mean"],
             "ci_low": s["macro_recall"]["ci95"][0], "ci_high": s["macro_recall"]["ci95"][1]}
            for name, s in stats["variants"].items()]
    with atomic_path(paths.STUDY_PLOT) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    flagged = [n for n, s in stats["variants"].items() if s["degenerate"]]
    return (f"stats [{label}]: {len(rows)} variants, {sum(map(len, seeds.values()))} runs, {study.bootstrap} bootstrap resamples; "
            f"degenerate: {', '.join(flagged) or 'none'}")
