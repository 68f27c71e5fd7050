"""The stats stage's work: per-variant summaries over seeds and paired comparisons per axis."""

from __future__ import annotations

from typing import Any

import numpy as np

from fer_pipeline.bootstrap import bootstrap_counts, detectable_difference, paired_difference, per_class_recall, summarize_variant
from fer_pipeline.results import read_predictions
from fer_pipeline.variants import Variant

Runs = list[tuple[np.ndarray, np.ndarray]]


def load_runs(variants: dict[str, list[Variant]], seeds: tuple[int, ...]) -> dict[str, Runs]:
    """Variant name -> the (true, predicted) arrays of each seed's run."""
    return {v.name: [read_predictions(v.run(s)) for s in seeds] for vs in variants.values() for v in vs}


def study_stats(variants: dict[str, list[Variant]], runs: dict[str, Runs], resamples: int) -> dict[str, Any]:
    """Summaries per variant, each axis's variants against its best, the integrated model against base and winners."""
    n = len(next(iter(runs.values()))[0][0])
    boot = bootstrap_counts(n, resamples, seed=0)
    out: dict[str, Any] = {"bootstrap_resamples": resamples, "test_images": n, "variants": {}, "axes": {}}
    for axis, vs in variants.items():
        for v in vs:
            out["variants"][v.name] = {"axis": axis, "settings": dict(v.settings), **summarize_variant(runs[v.name], boot),
                                       "recall_per_class": per_class_recall(runs[v.name])}
        if axis in ("base", "integrated"):
            continue
        best = max(vs, key=lambda v: out["variants"][v.name]["macro_recall"]["mean"])
        out["axes"][axis] = {
            "best": best.name,
            "versus_best": {v.name: paired_difference(runs[v.name], runs[best.name], boot) for v in vs if v is not best},
        }
    seeds = len(next(iter(runs.values())))
    ses = [d["se"] for a in out["axes"].values() for d in a["versus_best"].values()]
    out["detectable"] = {"macro_recall": detectable_difference(float(np.median(ses)), seeds)} if seeds > 1 and ses else None
    if "depth_activation" in variants:
        out["depth_spread"] = depth_spread(variants["depth_activation"], out["variants"], runs, boot)
    if "integrated" in variants:
        others = {"base": "base"} | {axis: a["best"] for axis, a in out["axes"].items()}
        out["integrated"] = {label: {"against": name, **paired_difference(runs["integrated"], runs[name], boot)}
                             for label, name in others.items()}
    return out


def axis_metrics(stats: dict[str, Any], variants: dict[str, list[Variant]]) -> dict[str, dict[str, float]]:
    """Per axis, {variant: mean test macro recall}: the short table `dvc metrics show` prints."""
    return {axis: {v.name: round(stats["variants"][v.name]["macro_recall"]["mean"], 4) for v in vs}
            for axis, vs in variants.items()}


def depth_spread(vs: list[Variant], summaries: dict[str, Any], runs: dict[str, Runs], boot: np.ndarray) -> dict[str, Any]:
    """Per depth: the best and worst activation and their paired difference (does the spread grow with depth?)."""
    out = {}
    for depth in dict.fromkeys(dict(v.settings)["depth"] for v in vs):
        at = [v for v in vs if dict(v.settings)["depth"] == depth]
        ranked = sorted(at, key=lambda v: summaries[v.name]["macro_recall"]["mean"], reverse=True)
        best, worst = ranked[0], ranked[-1]
        out[depth] = {"best": best.name, "worst": worst.name, **paired_difference(runs[best.name], runs[worst.name], boot)}
    return out
