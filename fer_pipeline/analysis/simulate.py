"""Simulated studies at the level of test images, to measure the comparisons' calibration and power.

A simulated test set has FER2013's test class counts. Network (variant k, seed s) gets image i right when

    level[class of i] + shift_k + b_s + e_ks + z_i + g_ki + eps_ksi > 0,

all normal on a probit scale: z_i an image's difficulty, shared by every network; g_ki a variant x image effect
(images one variant finds hard whatever its seed), shared by that variant's seeds; b_s a seed's effect, shared
by every variant at that seed (same initial weights and batch order); e_ks the network's own training noise;
eps_ksi which images that network happens to get right. A wrong prediction is one of the 6 other classes at
random. shift_k is the variant's known effect: `shift_for` turns a difference in population macro recall into
it. The runs are scored by the project's own code (bootstrap.run_scores, metrics.weighted_scores) and compared
by stats.compare, the function the stats stage calls; tests/test_simulate.py measures false positives and power.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize
from scipy import stats as _stats

from fer_pipeline.analysis.bootstrap import run_scores
from fer_pipeline.analysis.stats import compare
from fer_pipeline.metrics import K

FER2013_TEST = (958, 111, 1024, 1774, 1233, 1247, 831)  # test images per class, angry..neutral: 7,178
RECALL = (0.25, 0.05, 0.20, 0.55, 0.30, 0.35, 0.45)  # per-class recall of a typical study MLP (macro 0.31)


@dataclass(frozen=True)
class Noise:
    """Standard deviations on the probit scale (module docstring)."""

    difficulty: float = 1.0  # z: an image's difficulty, every network
    variant_image: float = 0.6  # g: variant x image, a variant's every seed
    seed: float = 0.03  # b: a seed, every variant
    network: float = 0.03  # e: one network's training noise

    @property
    def total(self) -> float:
        """The sd of the latent score around its class level."""
        return float(np.sqrt(1 + self.difficulty**2 + self.variant_image**2 + self.seed**2 + self.network**2))


def labels(counts: tuple[int, ...] = FER2013_TEST) -> np.ndarray:
    """The test set's true classes, class by class."""
    return np.repeat(np.arange(K), counts)


def levels(noise: Noise, recall: tuple[float, ...] = RECALL) -> np.ndarray:
    """Per-class probit level giving the population recall `recall` at shift 0."""
    return _stats.norm.ppf(recall) * noise.total


def macro_recall(shift: float, noise: Noise) -> float:
    """The population macro recall of a variant with this shift (every noise averaged out)."""
    return float(_stats.norm.cdf((levels(noise) + shift) / noise.total).mean())


def shift_for(difference: float, noise: Noise) -> float:
    """The shift whose population macro recall is `difference` above shift 0's."""
    target = macro_recall(0.0, noise) + difference
    return float(optimize.brentq(lambda a: macro_recall(a, noise) - target, -3.0, 3.0))


def simulate_runs(rng: np.random.Generator, y: np.ndarray, shifts: np.ndarray, seeds: int, noise: Noise,
                  spread: np.ndarray | None = None) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Per variant (one per shift), per seed: (true, predicted) on one freshly drawn test set; `spread` scales
    each variant's training noise (1 for all by default: the pooled model's assumption)."""
    k, n = len(shifts), len(y)
    z = rng.normal(0, noise.difficulty, n)
    g = rng.normal(0, noise.variant_image, (k, 1, n))
    b = rng.normal(0, noise.seed, (1, seeds, 1))
    e = rng.normal(0, noise.network, (k, seeds, 1)) * (np.ones(k) if spread is None else np.asarray(spread))[:, None, None]
    latent = levels(noise)[y] + np.asarray(shifts)[:, None, None] + b + e + z + g + rng.standard_normal((k, seeds, n))
    wrong = (y + rng.integers(1, K, (k, seeds, n))) % K
    pred = np.where(latent > 0, y, wrong)
    return [[(y, pred[i, s]) for s in range(seeds)] for i in range(k)]


def simulate_study(rng: np.random.Generator, y: np.ndarray, boot: np.ndarray, differences: tuple[float, ...],
                   seeds: int, noise: Noise, spread: np.ndarray | None = None) -> dict[str, Any]:
    """One family: a control and one variant per true difference in macro recall, each compared with the
    control by stats.compare on the same bootstrap rows; its macro-recall comparisons by variant index."""
    shifts = np.array([0.0, *(shift_for(d, noise) if d else 0.0 for d in differences)])
    runs = simulate_runs(rng, y, shifts, seeds, noise, spread)
    scores = {str(i): run_scores(r, boot) for i, r in enumerate(runs)}
    out = compare(scores, {str(i): (str(i), "0") for i in range(1, len(runs))}, {str(i): tuple(range(seeds)) for i in scores})
    return {label: c["macro_recall"] for label, c in out.items()}
