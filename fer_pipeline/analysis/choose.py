"""The choose stage's rule: per factor, the value with the best mean validation macro recall (never test), and the
factorial that measures the carried picks together at the chosen architecture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fer_pipeline import paths
from fer_pipeline.analysis.factorial import fraction
from fer_pipeline.analysis.variants import FACTORIAL, Variant, check_no_copies, full_settings, study_variants, variant_seeds
from fer_pipeline.axes import CARRIED, FACTORS
from fer_pipeline.io import read_json
from fer_pipeline.params import ParamsFile, PresetsParams, StudyParams, check_study_presets


def valid_recalls(variants: list[Variant], seeds: dict[str, tuple[int, ...]], root: Path = Path(".")) -> dict[str, list[float]]:
    """Axis value ("base" for the control) -> the best-epoch valid macro recall of each seed's run (`seeds`: by
    variant name, variants.variant_seeds)."""
    return {v.value: [float(read_json(root / paths.live_summary(v.run(s)))["valid"]["macro_recall"])
                      for s in seeds[v.name]] for v in variants}


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
    factorial over the carried picks at the chosen architecture (factorial_design)."""
    variants = study_variants(study)
    seeds = {v.name: variant_seeds(v, study, presets) for f in FACTORS for v in variants[f]}
    valid = {f: valid_recalls(variants[f], seeds, root) for f in FACTORS}
    chosen = choose(valid)
    by_value = {(f, v.value): v.name for f in FACTORS for v in variants[f]}
    best = max(((f, value) for f in FACTORS for value in valid[f]), key=lambda k: float(np.mean(valid[k[0]][k[1]])))
    return {"chosen": chosen, "settings": full_settings(chosen, study, presets), "valid_macro_recall": valid,
            "best_single": by_value[best], FACTORIAL: factorial_design(chosen, study, presets)}


def factorial_design(chosen: dict[str, str], study: StudyParams, presets: PresetsParams) -> dict[str, Any]:  # type: ignore[valid-type]
    """choice.json's factorial: at the chosen architecture, every carried factor whose pick is not the base's value
    at two levels, the base's and the pick (analysis.factorial.fraction: the full 2^k up to 3 factors, the
    resolution-IV half fraction for 4). Each point: its levels, every factor's fields (so its run reads no factor
    from params), and whether it is an existing run, trained once already: the all-base point is the chosen
    architecture's axis run (the base at the base's architecture), and at the base's architecture a point with
    one pick is that pick's axis run."""
    arch = chosen["architecture"]
    factors = [f for f in CARRIED if chosen[f] != "base"]
    points = []
    for levels in fraction(len(factors)):
        named = {f: chosen[f] if x > 0 else "base" for f, x in zip(factors, levels, strict=True)}
        picks = sum(x > 0 for x in levels)
        points.append({"levels": named, "settings": full_settings({"architecture": arch, **named}, study, presets),
                       "reuses": picks == 0 or (arch == "base" and picks == 1)})
    return {"architecture": arch, "factors": factors, "points": points}
