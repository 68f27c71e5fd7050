"""The choose stage's rule: per factor, the value with the best mean validation macro recall (never test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fer_pipeline import paths
from fer_pipeline.io import read_json
from fer_pipeline.params import ModelParams, ParamsFile, PresetsParams, StudyParams, TrainParams, check_study_presets
from fer_pipeline.variants import FACTORS, Variant, check_no_copies, chosen_settings, study_variants


def valid_recalls(variants: list[Variant], seeds: tuple[int, ...], root: Path = Path(".")) -> dict[str, list[float]]:
    """Axis value ("base" for the control) -> the best-epoch valid macro recall of each seed's run."""
    return {v.value: [float(read_json(root / paths.live_dir(v.run(s)) / "metrics.json")["valid"]["macro_recall"])
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


def study_and_presets(pf: ParamsFile) -> tuple[StudyParams, PresetsParams]:
    """The study's axes and the presets their names refer to, checked against the base: every name defined,
    nothing trained twice (variants.check_no_copies)."""
    study, presets = pf.section(StudyParams, "study"), pf.section(PresetsParams, "presets")
    check_study_presets(study, presets, pf.where)
    check_no_copies(study, presets, pf.section(ModelParams, "base.model"), pf.section(TrainParams, "base.train"), pf.where)
    return study, presets


def choice_record(study: StudyParams, presets: PresetsParams, root: Path = Path(".")) -> dict[str, Any]:
    """choice.json: the chosen value per factor, the model/train settings they make (presets resolved, so the
    integrated runs read no preset themselves), the validation scores they were chosen on, and the best single
    variant on validation (what the integrated model must beat)."""
    variants = study_variants(study)
    valid = {f: valid_recalls(variants[f], study.seeds, root) for f in FACTORS}
    chosen = choose(valid)
    by_value = {(f, v.value): v.name for f in FACTORS for v in variants[f]}
    best = max(((f, value) for f in FACTORS for value in valid[f]), key=lambda k: float(np.mean(valid[k[0]][k[1]])))
    # Axis values are strings in run names; batch sizes are integers in params.
    typed = {f: int(v) if f == "batch_size" else v for f, v in chosen.items() if v != "base"}
    return {"chosen": chosen, "settings": chosen_settings(typed, presets), "valid_macro_recall": valid,
            "best_single": by_value[best]}
