"""The choose stage's rule: per factor, the value with the best mean validation macro recall (never test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fer_pipeline import paths
from fer_pipeline.analysis.variants import Variant, check_no_copies, factor_settings, full_settings, study_variants
from fer_pipeline.axes import CARRIED, FACTORS
from fer_pipeline.io import read_json
from fer_pipeline.params import ParamsFile, PresetsParams, StudyParams, check_study_presets


def valid_recalls(variants: list[Variant], seeds: tuple[int, ...], root: Path = Path(".")) -> dict[str, list[float]]:
    """Axis value ("base" for the control) -> the best-epoch valid macro recall of each seed's run."""
    return {v.value: [float(read_json(root / paths.live_summary(v.run(s)))["valid"]["macro_recall"])
                      for s in seeds] for v in variants}


def choose(valid: dict[str, dict[str, list[float]]]) -> dict[str, str]:
    """Per factor, the value whose seed-mean valid macro recall is highest (the first listed, so the base, wins a
    tie); "base" keeps the base's own setting for that factor."""
    chosen = {}
    for factor in FACTORS:
        if factor in valid:
            values = list(valid[factor])
            means = [float(np.mean(valid[factor][v])) for v in values]
            chosen[factor] = values[int(np.argmax(means))]
    return chosen


def study_and_presets(pf: ParamsFile) -> tuple[StudyParams, PresetsParams]:  # type: ignore[valid-type]
    """The study (its axes and base) and the presets their names refer to, checked: every name defined, nothing
    trained twice (variants.check_no_copies)."""
    study, presets = pf.section(StudyParams, "study"), pf.section(PresetsParams, "presets")
    check_study_presets(study, presets, pf.where)
    check_no_copies(study, presets, pf.where)
    return study, presets


def choice_record(study: StudyParams, presets: PresetsParams, root: Path = Path(".")) -> dict[str, Any]:  # type: ignore[valid-type]
    """choice.json: the chosen value per factor, the validation scores they were chosen on, the best single
    variant on validation (what the integrated model must beat), the settings of the one-factor picks together
    (every factor's fields, presets resolved, so no run built from it reads a factor from params), and the
    carry-over round: the chosen architecture's settings and each carried factor's pick, to be retried on it
    (none when the chosen architecture is the base's: the axes already measured every factor there)."""
    variants = study_variants(study)
    valid = {f: valid_recalls(variants[f], study.seeds, root) for f in FACTORS}
    chosen = choose(valid)
    by_value = {(f, v.value): v.name for f in FACTORS for v in variants[f]}
    best = max(((f, value) for f in FACTORS for value in valid[f]), key=lambda k: float(np.mean(valid[k[0]][k[1]])))
    picked = picked_settings(chosen, study, presets)
    return {"chosen": chosen, "settings": picked["settings"], "valid_macro_recall": valid,
            "best_single": by_value[best], "carryover": picked["carryover"]}


def picked_settings(chosen: dict[str, str], study: StudyParams, presets: PresetsParams) -> dict[str, Any]:  # type: ignore[valid-type]
    """choice.json's settings part: every factor's fields of the picks together, and the carry-over round's
    architecture settings and each carried factor's (non-base) pick; no round when the architecture is the base's."""
    arch = chosen["architecture"]
    carryover = None if arch == "base" else {
        "architecture": arch,
        "settings": full_settings({"architecture": arch}, study, presets),
        "factors": {f: {"value": chosen[f], "settings": factor_settings(f, chosen[f], study, presets)}
                    for f in CARRIED if chosen[f] != "base"},
    }
    return {"settings": full_settings(chosen, study, presets), "carryover": carryover}
