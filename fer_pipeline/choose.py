"""The choose stage's rule: per factor, the value with the best mean validation macro recall (never test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_pipeline import paths
from fer_pipeline.io import read_json
from fer_pipeline.variants import FACTORS, Variant


def run_name(variant: Variant, seed: int) -> str:
    """The --variant name of one study run: a path under each stage's folder.

    Axis runs live under study/, the integrated model's under integrated/: choose reads all of
    metrics/train/study, and the integrated runs it leads to must not be inside it.
    """
    root = "integrated" if variant.axis == "integrated" else "study"
    return f"{root}/{variant.run(seed)}"


def valid_recalls(variants: list[Variant], seeds: tuple[int, ...], root: Path = Path(".")) -> dict[str, list[float]]:
    """Axis value -> the best-epoch valid macro recall of each seed's run."""
    out = {}
    for v in variants:
        out[v.settings[0][1]] = [
            float(read_json(root / paths.live_dir(run_name(v, s)) / "metrics.json")["valid"]["macro_recall"]) for s in seeds
        ]
    return out


def choose(valid: dict[str, dict[str, list[float]]]) -> dict[str, str]:
    """Per factor, the value whose seed-mean valid macro recall is highest (the first listed wins a tie)."""
    chosen = {}
    for factor in FACTORS:
        if factor in valid:
            values = list(valid[factor])
            means = [float(np.mean(valid[factor][v])) for v in values]
            chosen[factor] = values[int(np.argmax(means))]
    return chosen
