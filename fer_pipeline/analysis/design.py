"""The design stage's rule: the integrated model from the factorial at the chosen architecture, fitted on
validation (never test).

The one-factor axes pick each factor around the base MLP; architecture is the factor most likely to interact with
the others. So every carried factor whose pick is not the base's value is measured again, together, at the chosen
architecture: a two-level factorial (analysis.factorial: the full 2^k up to three picks, the resolution-IV half
fraction for four), paired by seed. Its fit on validation macro recall estimates each pick's main effect there
and the two-factor interactions the design can see, each against the pooled seed noise; a term enters the model
only when it clears t(0.95, df) (a two-sided 10% test), so a pick replaces the base's value only on evidence.

The integrated model is the design point with the best fitted validation score: always a point of the design, so
it is trained once, with the design's seeds, and its test comparison with the best single variant is paired by
seed. When the best setting by main effects lies outside a half fraction, the best point inside it is used and the
record says so. With no pick to carry the design is the chosen architecture alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fer_pipeline import paths
from fer_pipeline.analysis import factorial
from fer_pipeline.analysis.choose import valid_recalls
from fer_pipeline.analysis.variants import FACTORIAL, factorial_variants, variant_seeds
from fer_pipeline.io import read_json, write_json
from fer_pipeline.params import PresetsParams, StudyParams


def design_record(choice: dict[str, Any], valid: list[list[float]], names: list[str]) -> dict[str, Any]:
    """data/design/design.json from choice.json's factorial and each point's per-seed validation macro recall
    (`valid`, in the points' order, paired by seed; `names`: the points' variants): the fit, each point's fitted
    score, and the integrated model (the best point)."""
    design = choice[FACTORIAL]
    factors, points = design["factors"], design["points"]
    levels = factorial.fraction(len(factors))
    fit = factorial.fit(factors, levels, np.asarray(valid, dtype=float)) if len(points) > 1 else None
    best = fit["best"] if fit else 0
    main = {f: e for f, e in (fit["effects"] if fit else {}).items() if f in factors}
    wanted = tuple(1 if main[f]["kept"] and main[f]["effect"] > 0 else -1 for f in factors)
    outside = bool(factors) and wanted not in levels
    setting = ", ".join(f"{f}={'pick' if x > 0 else 'base'}" for f, x in zip(factors, wanted, strict=True))
    why = ("no pick to carry: the chosen architecture alone" if not factors else
           "the design point with the best fitted validation macro recall (terms clearing the keep bound)"
           + ("; the best setting by main effects, " + setting + ", is outside the half fraction and was not trained"
              if outside else ""))
    return {"architecture": design["architecture"], "factors": factors,
            "points": [{"variant": n, "levels": p["levels"], "valid_macro_recall": v,
                        "fitted": fit["fitted"][i] if fit else float(np.mean(v))}
                       for i, (n, p, v) in enumerate(zip(names, points, valid, strict=True))],
            "fit": {k: fit[k] for k in ("effects", "sigma2", "df", "keep_bound")} if fit else None,
            "integrated": {"variant": names[best], "index": best, "levels": points[best]["levels"]},
            "why": why, "outside_fraction": outside}


def point_recalls(choice: dict[str, Any], study: StudyParams, presets: PresetsParams,  # type: ignore[valid-type]
                  root: Path = Path(".")) -> tuple[list[list[float]], list[str]]:
    """Each point's per-seed validation macro recall, on the seeds every point shares (the architecture's), and
    the points' variant names."""
    variants = factorial_variants(choice)
    seeds = {v.name: variant_seeds(v, study, presets) for v in variants}
    common = [s for s in seeds[variants[0].name] if all(s in x for x in seeds.values())]
    return [valid_recalls([v], {v.name: tuple(common)}, root)[v.value] for v in variants], [v.name for v in variants]


def write_design(study: StudyParams, presets: PresetsParams) -> list[str]:  # type: ignore[valid-type]
    """The design stage: choice.json and the factorial's validation metrics -> data/design/design.json; returns the
    lines the stage prints (each effect, kept or not, then the integrated model)."""
    choice = read_json(paths.CHOICE)
    record = design_record(choice, *point_recalls(choice, study, presets))
    write_json(paths.DESIGN, record)
    effects = (record["fit"] or {}).get("effects", {})
    lines = [f"design: {name} on {record['architecture']}: {e['effect']:+.4f} (se {e['se']:.4f}) -> "
             f"{'kept' if e['kept'] else 'dropped'}" for name, e in effects.items()]
    return [*lines, f"design: integrated = {record['integrated']['variant']} "
                    + ", ".join(f"{k}={v}" for k, v in record["integrated"]["levels"].items())]
