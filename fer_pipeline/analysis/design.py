"""The design stage's rule: the integrated model from the carry-over round, fitted on validation (never test).

The one-factor axes pick each factor around the base MLP. Architecture is the factor most likely to interact
with the others, so the pick of each other factor is retried on the chosen architecture (stages study_carryover,
same seeds): a greedy second round around the architecture. Per carried factor, on validation macro recall and
paired by seed:

    effect at the architecture  = (architecture + pick) - architecture
    effect at the base          = (base + pick) - base            (the one-factor axis, as choose saw it)
    carry-over                  = effect at the architecture - effect at the base

The model fitted is additive in the factors at the chosen architecture (main effects measured there; no
interaction between two carried factors, which this round cannot see). Its best predicted setting keeps every
pick whose effect at the architecture is above zero; that setting is the integrated model, confirmed on fresh
seeds against the best single variant. A round of 4 runs per seed instead of a 2^(5-1) factorial's 8 at the
architecture: the factorial's extra runs buy the two-factor interactions among the carried factors, at the cost
of the architecture's (slowest) runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fer_pipeline import paths
from fer_pipeline.analysis.choose import valid_recalls
from fer_pipeline.analysis.variants import Settings, carryover_variants, merge
from fer_pipeline.axes import CARRIED
from fer_pipeline.io import read_json, write_json


def effect(with_pick: list[float], without: list[float]) -> float:
    """The seed-paired mean difference with - without (the runs share seeds, so initial weights and batch order)."""
    return float(np.mean(np.asarray(with_pick) - np.asarray(without)))


def fit(choice: dict[str, Any], round_valid: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """Per carried factor: its pick, the effects at the architecture and at the base, and the carry-over.
    `round_valid` holds each seed's valid macro recall of the architecture's own run ("control") and of each
    carried factor's run (by factor)."""
    carry, valid = choice["carryover"], choice["valid_macro_recall"]
    out = {}
    for factor, c in carry["factors"].items():
        at_arch = effect(round_valid[factor], round_valid["control"])
        at_base = effect(valid[factor][str(c["value"])], valid[factor]["base"])
        out[factor] = {"value": c["value"], "effect_at_architecture": at_arch, "effect_at_base": at_base,
                       "carryover": at_arch - at_base, "kept": at_arch > 0}
    return out


def design_record(choice: dict[str, Any], round_valid: dict[str, list[float]]) -> dict[str, Any]:
    """data/design/design.json: the round's fit, the best predicted setting (what the integrated model trains)
    and its predicted validation macro recall. Without a round (the base's architecture chosen, or no pick to
    carry), the integrated model is the one-factor picks together, as choose wrote them."""
    carry = choice.get("carryover")
    if not carry or not carry["factors"]:
        why = ("the chosen architecture is the base's: every factor was already chosen on it by the one-factor axes"
               if not carry else "choose kept the base's value of every carried factor: nothing to carry over")
        return {"architecture": choice["chosen"]["architecture"], "round": {}, "integrated": dict(choice["chosen"]),
                "predicted_valid_macro_recall": None, "why": why, "settings": choice["settings"]}
    round_fit = fit(choice, round_valid)
    kept = [f for f, r in round_fit.items() if r["kept"]]
    settings: Settings = merge(carry["settings"], *(carry["factors"][f]["settings"] for f in kept))
    control = float(np.mean(round_valid["control"]))
    integrated = {"architecture": carry["architecture"]} | {f: str(round_fit[f]["value"]) if f in kept else "base"
                                                           for f in CARRIED}
    return {"architecture": carry["architecture"], "round": round_fit, "integrated": integrated,
            "control_valid_macro_recall": control,
            "predicted_valid_macro_recall": control + sum(round_fit[f]["effect_at_architecture"] for f in kept),
            "why": "the chosen architecture with every pick whose seed-paired validation effect on it is above zero",
            "settings": settings}


def round_recalls(choice: dict[str, Any], seeds: tuple[int, ...], root: Path = Path(".")) -> dict[str, list[float]]:
    """Each seed's valid macro recall of the round: "control" (the architecture's axis run) and each factor's run."""
    family = carryover_variants(choice)
    if not family:
        return {}
    recalls = valid_recalls(family, seeds, root)  # by value: the architecture's, then "<architecture>-<pick>"
    return {"control": recalls[family[0].value], **{v.settings[-1][0]: recalls[v.value] for v in family[1:]}}


def write_design(seeds: tuple[int, ...]) -> list[str]:
    """The design stage: choice.json and the round's validation metrics -> data/design/design.json; returns the
    lines the stage prints (each factor's fit, then the integrated setting)."""
    choice = read_json(paths.CHOICE)
    record = design_record(choice, round_recalls(choice, seeds))
    write_json(paths.DESIGN, record)
    lines = [f"design: {factor}={r['value']} on {record['architecture']}: {r['effect_at_architecture']:+.4f} "
             f"(on the base {r['effect_at_base']:+.4f}) -> {'kept' if r['kept'] else 'dropped'}"
             for factor, r in record["round"].items()]
    return [*lines, "design: integrated = " + ", ".join(f"{k}={v}" for k, v in record["integrated"].items())]
