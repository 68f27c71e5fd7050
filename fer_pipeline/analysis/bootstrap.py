"""Statistics over seeds and test images: means, intervals and paired differences that count both sources of noise.

Everything is computed from saved predictions. A bootstrap resample of the test images is a
row of counts W[b, i] (how often image i was drawn), scored by metrics.weighted_scores as image weights, so a
resample's macro recall is the evaluate stage's macro recall of the images it drew. Scores of every variant are
evaluated on the same rows, so differences between variants are paired. Seeds are paired too: seed s of every
variant starts from the same initial weights and batch order.

An interval holds a seed mean m of S per-seed values with spread s, and the bootstrap standard error
se_img of m over test images: m ± t(0.975, S-1) * sqrt(s^2/S + se_img^2). Training noise (the seeds)
and test-image noise both count. The t quantile with S-1 degrees of freedom is the worst case over how
large one noise is against the other, so the interval covers at least 95% whatever their ratio
(tests/test_bootstrap.py simulates 4,000 null studies at 3 and 5 seeds). An interval from the image
bootstrap alone, which holds the trained networks fixed, calls about half of the truly null
differences significant at seed sd 0.010; this one about 1-3%.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as _stats

from fer_pipeline import CLASSES
from fer_pipeline.metrics import per_class_scores, weighted_scores

METRICS = ("macro_recall", "macro_f1", "accuracy")


def bootstrap_counts(n: int, resamples: int, seed: int = 0) -> np.ndarray:
    """(resamples, n) float32 draw counts of n images sampled with replacement, seeded."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    counts = np.zeros((resamples, n), dtype=np.float32)
    np.add.at(counts, (np.repeat(np.arange(resamples), n), idx.ravel()), 1.0)
    return counts


def seed_mean_scores(runs: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray) -> dict[str, np.ndarray]:
    """Per metric: (B,) scores averaged over the seeds' runs, each run scored on the same resamples."""
    per_run = [weighted_scores(t, p, weights) for t, p in runs]
    return {m: np.mean([r[m] for r in per_run], axis=0) for m in METRICS}


def seed_image_intervals(per_seed: np.ndarray, image_se: np.ndarray, level: float = 0.95) -> dict[str, np.ndarray]:
    """For each row of per-seed values (studies x seeds) and its image standard error: the seed mean, the
    interval bounds `low`/`high` counting training and test-image noise (module docstring), its standard error
    and the two-sided p-value of mean 0. Needs at least two seeds (the training noise is their spread)."""
    per_seed = np.atleast_2d(np.asarray(per_seed, dtype=float))
    n = per_seed.shape[1]
    if n < 2:
        raise ValueError("the seeds' spread needs at least two seeds")
    mean = per_seed.mean(axis=1)
    se = np.sqrt(per_seed.var(axis=1, ddof=1) / n + np.asarray(image_se, dtype=float) ** 2)
    t = float(_stats.t.ppf(0.5 + level / 2, n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * _stats.t.sf(np.abs(mean) / se, n - 1), np.where(mean == 0, 1.0, 0.0))
    return {"mean": mean, "low": mean - t * se, "high": mean + t * se, "se": se, "p": p}


def seed_image_interval(per_seed: np.ndarray, image_se: float, level: float = 0.95) -> dict[str, Any]:
    """One seed mean with its interval (seed_image_intervals). With one seed the training noise is unknown: the
    interval then counts the images alone and `seed_noise_counted` is False; nothing may be called significant
    from it."""
    per_seed = np.asarray(per_seed, dtype=float)
    mean = float(per_seed.mean())
    if len(per_seed) < 2:
        half = float(_stats.norm.ppf(0.5 + level / 2)) * image_se
        return {"mean": mean, "ci95": [mean - half, mean + half], "se": image_se, "p": 1.0, "seed_noise_counted": False}
    r = {k: float(v[0]) for k, v in seed_image_intervals(per_seed[None, :], np.array([image_se]), level).items()}
    return {"mean": r["mean"], "ci95": [r["low"], r["high"]], "se": r["se"], "p": r["p"], "seed_noise_counted": True}


def detectable_difference(se: float, seeds: int, power: float = 0.8, level: float = 0.95) -> float:
    """The true difference a comparison with this standard error finds significant with probability `power`,
    about (t(level) + t(power)) * se with seeds - 1 degrees of freedom."""
    df = seeds - 1
    return float((_stats.t.ppf(0.5 + level / 2, df) + _stats.t.ppf(power, df)) * se)


def summarize_variant(runs: list[tuple[np.ndarray, np.ndarray]], boot: np.ndarray) -> dict[str, Any]:
    """Per metric: per-seed values, mean and sd over seeds, and a 95% interval of the mean counting the seeds'
    spread and the test images' (bootstrap) spread."""
    ones = np.ones((1, len(runs[0][0])), dtype=np.float32)
    plain = [weighted_scores(t, p, ones) for t, p in runs]
    boot_mean = seed_mean_scores(runs, boot)
    out: dict[str, Any] = {"seeds": len(runs)}
    for m in METRICS:
        values = np.array([float(r[m][0]) for r in plain])
        out[m] = {
            "per_seed": values.tolist(),
            "mean": float(values.mean()),
            "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            # A score is a fraction: the interval is clipped to [0, 1] (3 seeds with a large sd reach past it).
            "ci95": list(np.clip(seed_image_interval(values, float(boot_mean[m].std(ddof=1)))["ci95"], 0.0, 1.0)),
        }
    return out


def paired_contrast(terms: list[tuple[list, float]], boot: np.ndarray, metric: str = "macro_recall") -> dict[str, Any]:
    """sum_k w_k * (seed-mean `metric` of variant k), paired by seed (the i-th run of every term together) and
    by test image: its mean, 95% interval counting both noises, p-value of zero, and significant if the interval
    excludes 0 (never with one seed). a - b is [(a, 1), (b, -1)]; an interaction adds four terms."""
    ones = np.ones((1, len(terms[0][0][0][0])), dtype=np.float32)
    seeds = {len(runs) for runs, _ in terms}
    if len(seeds) != 1:
        raise ValueError(f"contrast terms need the same number of seeds, got {sorted(seeds)}")
    per_seed = np.array([sum(w * weighted_scores(*runs[i], ones)[metric][0] for runs, w in terms)
                         for i in range(seeds.pop())])
    image_se = float(sum(w * seed_mean_scores(runs, boot)[metric] for runs, w in terms).std(ddof=1))
    r = seed_image_interval(per_seed, image_se)
    lo, hi = r["ci95"]
    return {"difference": r["mean"], "ci95": [lo, hi], "se": r["se"], "p": r["p"], "seeds": len(per_seed),
            "significant": bool(r["seed_noise_counted"] and (lo > 0 or hi < 0))}


def paired_difference(runs_a: list, runs_b: list, boot: np.ndarray, metric: str = "macro_recall") -> dict[str, Any]:
    """a - b in seed-mean `metric`, paired by seed and by test image (paired_contrast)."""
    return paired_contrast([(runs_a, 1.0), (runs_b, -1.0)], boot, metric)


def holm(p_values: dict[str, float], alpha: float = 0.05) -> dict[str, dict[str, Any]]:
    """Holm's step-down adjustment within one family: name -> adjusted p and whether it is below alpha. The
    family-wise error rate stays at most alpha whatever the dependence between the comparisons."""
    order = sorted(p_values, key=lambda k: p_values[k])
    m, running, out = len(order), 0.0, {}
    for i, name in enumerate(order):
        running = max(running, min(1.0, (m - i) * p_values[name]))
        out[name] = {"p_holm": running, "significant_holm": running < alpha}
    return out


HIGHER, LOWER, NO_DIFFERENCE = "higher", "lower", "no difference shown"  # a comparison's verdicts


def verdict(d: dict[str, Any]) -> str:
    """A comparison's verdict after Holm's adjustment within its family (`holm`): HIGHER or LOWER when it is
    significant, by the sign of its difference, else NO_DIFFERENCE."""
    if not d["significant_holm"]:
        return NO_DIFFERENCE
    return HIGHER if d["difference"] > 0 else LOWER


def per_class_recall(runs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Recall of each class, averaged over seeds."""
    per_run = [per_class_scores(t, p) for t, p in runs]
    return {c: float(np.mean([r[c]["recall"] for r in per_run])) for c in CLASSES}
