"""The replication: every axis comparison the study calls significant, retrained at seeds the study did not use
(study.replicate_seeds) and compared again on the same test images.

Which comparisons to replicate is read from the study's test verdicts (that is what a replication is of), so the
replicate runs are never release candidates and never inform a choice: they only say whether a verdict survives
fresh training noise. The rule, per comparison, on the fresh seeds alone (Holm over the replicated comparisons):

    replicated                  same direction as the study's verdict, and significant after Holm
    not replicated (reversed)   the opposite direction, and significant after Holm
    not replicated              anything else: the fresh seeds do not show the difference

A CNN variant is retrained on as many fresh seeds as it has study seeds (study.cnn_seeds), the first of
study.replicate_seeds; an MLP on all of them. With no replicate seeds (the default: an opt-in profile) nothing is
trained, and the report says how to run it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fer_pipeline import paths
from fer_pipeline.analysis.bootstrap import NO_DIFFERENCE, bootstrap_counts, family_comparisons, run_scores, verdict
from fer_pipeline.analysis.variants import Variant, model_and_train, run_name, study_families, trained, variant_family
from fer_pipeline.io import read_json, write_json
from fer_pipeline.params import EvaluateParams, ParamsFile, PresetsParams, StudyParams
from fer_pipeline.training.results import read_predictions
from fer_pipeline.training.study import skip, study_runs

REPLICATED, REVERSED, NOT_REPLICATED = "replicated", "not replicated (reversed)", "not replicated"
OUTCOMES = (REPLICATED, REVERSED, NOT_REPLICATED)


def significant(stats: dict[str, Any]) -> list[dict[str, str]]:
    """The axis comparisons significant after Holm in macro recall (one test set's stats), each as its axis,
    variant, control and verdict, in study order."""
    return [{"axis": axis, "variant": name, "control": a["control"], "verdict": verdict(d["macro_recall"])}
            for axis, a in stats["axes"].items() for name, d in a["versus_control"].items()
            if verdict(d["macro_recall"]) != NO_DIFFERENCE]


def outcome(original: str, fresh: dict[str, Any]) -> str:
    """The replication rule (module docstring): the study's verdict (HIGHER or LOWER) against the fresh seeds'
    comparison, Holm-adjusted over the replicated comparisons."""
    again = verdict(fresh)
    if again == NO_DIFFERENCE:
        return NOT_REPLICATED
    return REPLICATED if again == original else REVERSED


def replication_record(plan: list[dict[str, str]], fresh: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """replication.json: per replicated comparison, the study's verdict, the fresh seeds' comparison (`fresh`, by
    variant: family_comparisons over the plan) and the outcome, and how many of each outcome."""
    rows = [{**item, "fresh": fresh[item["variant"]], "outcome": outcome(item["verdict"], fresh[item["variant"]])}
            for item in plan]
    return {"comparisons": rows, "counts": {o: sum(r["outcome"] == o for r in rows) for o in OUTCOMES}, "skipped": ""}


def fresh_seeds(family: str, study: StudyParams) -> tuple[int, ...]:  # type: ignore[valid-type]
    """The replicate seeds of a configuration of this model family: a CNN as many as study.cnn_seeds, an MLP all."""
    return study.replicate_seeds[:len(study.cnn_seeds)] if family == "cnn" else study.replicate_seeds


def plan_variants(plan: list[dict[str, str]], study: StudyParams, choice: dict[str, Any]) -> list[Variant]:  # type: ignore[valid-type]
    """The variants a plan retrains: each compared variant and its control, once each, in study order."""
    names = {n for item in plan for n in (item["variant"], item["control"])}
    return [v for n, v in trained(study_families(study, choice)).items() if n in names]


def fresh_comparisons(plan: list[dict[str, str]], seeds: dict[str, tuple[int, ...]], resamples: int) -> dict[str, dict[str, Any]]:
    """Each planned variant against its control on its fresh runs' test predictions, in macro recall, as one family
    (Holm over the replicated comparisons), on the stats stage's bootstrap rows (same seed, same test images)."""
    runs = {n: [read_predictions(run_name(f"{paths.REPLICATE_RUNS}/{n}", s))[:2] for s in ss] for n, ss in seeds.items()}
    boot = bootstrap_counts(len(next(iter(runs.values()))[0][0]), resamples, seed=0)
    scores = {n: run_scores(r, boot)["macro_recall"] for n, r in runs.items()}
    named = {item["variant"]: {item["variant"]: 1.0, item["control"]: -1.0} for item in plan}
    return family_comparisons(scores, named, seeds=seeds)


def replicate(pf: ParamsFile, study: StudyParams, presets: PresetsParams, device: str, threads: int,  # type: ignore[valid-type]
              how: EvaluateParams) -> str:
    """The replicate stage: the study's significant axis comparisons (data/stats/stats.json, full test set), each
    variant and its control retrained at its fresh seeds as its study stage composes it, then compared again ->
    data/replicate/replication.json; returns the line the stage prints. Nothing to replicate writes skipped.json in
    the run folders and says why."""
    plan = significant(read_json(paths.STATS)["test"])
    why = ("study.replicate_seeds is empty: the replication is opt-in (docs/study.md: Replication)" if not study.replicate_seeds
           else "no axis comparison is significant" if not plan else "")
    if why:
        skip(paths.REPLICATE_RUNS, why)
        write_json(paths.REPLICATION, {"comparisons": [], "counts": dict.fromkeys(OUTCOMES, 0), "skipped": why})
        return f"replicate: nothing to retrain: {why}"
    seeds = {}
    for v in plan_variants(plan, study, read_json(paths.CHOICE)):
        mp, tp = model_and_train(pf, "study", [f"{axis}={value}" for axis, value in v.settings], None, ["train.seed=0"])
        seeds[v.name] = fresh_seeds(variant_family(v, study, presets), study)
        study_runs(f"{paths.REPLICATE_RUNS}/{v.name}", seeds[v.name],
                   [(mp, dataclasses.replace(tp, seed=s)) for s in seeds[v.name]], device, threads, how)
    record = replication_record(plan, fresh_comparisons(plan, seeds, study.bootstrap))
    write_json(paths.REPLICATION, record)
    return "replicate: " + ", ".join(f"{n} {o}" for o, n in record["counts"].items())
