"""Statistics over seeds and test images: means, intervals and paired differences that count both sources of noise.

Everything is computed from saved predictions. A bootstrap resample of the test images is a
row of counts W[b, i] (how often image i was drawn), scored by metrics.weighted_scores as image weights, so a
resample's macro recall is the evaluate stage's macro recall of the images it drew. Scores of every variant are
evaluated on the same rows, so differences between variants are paired. Seeds are paired too: seed s of every
variant starts from the same initial weights and batch order.

A variant's own interval holds a seed mean m of S per-seed values with spread s, and the bootstrap standard
error se_img of m over test images: m ± t(0.975, S-1) * sqrt(s^2/S + se_img^2). Training noise (the seeds)
and test-image noise both count; the t quantile with S-1 degrees of freedom is the worst case over how large
one noise is against the other, so it covers at least 95% whatever their ratio (tests/test_bootstrap.py).

Comparisons between variants (family_contrasts, family_comparisons: what the stats stage reports) are
calibrated rather than worst-case: the image term counts only the image noise the seeds share (s^2 already
holds each network's own), and the seed variance is pooled over the family's variants where their spreads
agree. tests/test_simulate.py measures their false-positive rate and power on studies simulated image by
image (analysis.simulate).
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


def detectable_difference(se: float, df: float, power: float = 0.8, alpha: float = 0.05, tests: int = 1) -> float:
    """The true difference a comparison with this standard error and degrees of freedom finds significant with
    probability `power` after Holm over `tests` comparisons: (t(1 - alpha/(2 tests)) + t(power)) * se. When only
    it is a true difference, Holm tests it first, at alpha / tests."""
    return float((_stats.t.ppf(1 - alpha / (2 * tests), df) + _stats.t.ppf(power, df)) * se)


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


Scores = dict[str, tuple[np.ndarray, np.ndarray]]  # metric -> ((S,) plain, (S, B) resampled) scores of one variant's runs


def run_scores(runs: list[tuple[np.ndarray, np.ndarray]], boot: np.ndarray) -> Scores:
    """Each seed's run scored by metrics.weighted_scores, per metric: (S,) plain and (S, B) on the bootstrap rows."""
    ones = np.ones((1, len(runs[0][0])), dtype=np.float32)
    plain = [weighted_scores(t, p, ones) for t, p in runs]
    resampled = [weighted_scores(t, p, boot) for t, p in runs]
    return {m: (np.array([float(r[m][0]) for r in plain]), np.array([r[m] for r in resampled], dtype=float))
            for m in METRICS}


POOL_LEVEL = 0.05  # the ratio rule's level: pool while the spread ratio is below F's 1 - POOL_LEVEL quantile


def homogeneity(plain: np.ndarray, level: float = POOL_LEVEL) -> dict[str, Any]:
    """Whether the K variants (rows) of a family share one seed-noise variance, the pooled model's assumption.

    For every pair of variants the seed-paired differences y_ks - y_ls are free of the shared seed effect and
    their variance estimates sigma_k^2 + sigma_l^2: under the assumption every pair's is the same. The ratio rule
    pools while the largest of these variances over the smallest stays below F(1 - level; S-1, S-1), the bound
    for two independent pairs; a variant noisier than the rest lifts every pair it is in. (Centring each seed on
    the family's mean instead would spread a noisy variant's spread over all K, which hides it when K is small.)
    Two variants always pass (one pair; family_contrasts still fits them per pair); variances of 0 pass only if
    all are 0.

    Its limit, measured with analysis.simulate (100 resamples): where one of 3 variants has 4 times the others'
    training noise, the rule still pools 72% of families at 3 seeds (49% at 5), and that variant's comparison
    is significant in 10.1% of 1,000 null studies at 3 seeds (8.7% of 600 at 5). Taking instead the larger of
    the pooled and the pair's own variance per comparison held it at 5.3%, but was conservative on
    homogeneous null studies (2.9% at 3 seeds, 2.7% at 5, 4,000 comparisons each), below the calibration the
    study asks for. (A variance ratio near 100, as between FER2013's least and most noisy variants, is far
    above the bound of 19 at 3 seeds.) A variant suspected noisier than its family needs more seeds."""
    plain = np.asarray(plain, dtype=float)
    k, s = plain.shape
    pairs = [plain[i] - plain[j] for i in range(k) for j in range(i + 1, k)]
    var = np.array([d.var(ddof=1) for d in pairs]) if s > 1 and pairs else np.zeros(1)
    ratio = float(var.max() / var.min()) if var.min() > 0 else (1.0 if var.max() == 0 else float("inf"))
    bound = float(_stats.f.ppf(1 - level, s - 1, s - 1)) if s > 1 else float("inf")
    ok = ratio <= bound
    why = (f"largest / smallest variance of the {len(pairs)} seed-paired differences {ratio:.1f} "
           f"{'<=' if ok else '>'} F({1 - level:g}; {s - 1}, {s - 1}) = {bound:.1f}")
    return {"pooled": ok, "variance_ratio": ratio, "bound": bound, "reason": why}


def family_contrasts(plain: np.ndarray, resampled: np.ndarray, weights: np.ndarray, level: float = 0.95,
                     pool: bool | None = None) -> list[dict[str, Any]]:
    """Contrasts sum_k w_k * (seed mean of variant k) within a family of K variants trained on the same S seeds.

    plain is (K, S) per-seed scores, resampled (K, S, B) the same runs scored on B bootstrap rows of the test
    images, weights (J, K) one contrast per row, each summing to 0 (a - b is +1, -1). The model, per contrast with
    per-seed values d_s = sum_k w_k y_ks:

        d_s = delta + e_s + c,   Var(mean d) = sigma^2 / S + tau^2.

    e_s is what differs from seed to seed: the networks' training noise and the part of their test-image noise
    that is their own (which images a given network happens to get right); c is the test-image noise that every
    seed shares (images that one variant finds hard whatever its seed). The spread of d_s over seeds estimates
    sigma^2, network-specific image noise included, so the image term must count only c. The bootstrap gives the
    S x S covariance of the d_s over test-image resamples: its diagonal mean v is each seed's image variance, its
    off-diagonal mean tau^2 the part shared across seeds. The bootstrap variance of mean d is
    v/S + (S-1)/S tau^2 = tau^2 + (v - tau^2)/S, of which (v - tau^2)/S is already in sigma^2 / S; adding the
    whole of it (sd^2/S + SE_img^2) counts the seed-specific image noise twice.

    sigma^2 is pooled over the family when the variants' seed noise is homogeneous (`homogeneity`, or `pool`):
    a variant x seed two-way fit y_ks = mu_k + b_s + r_ks (b_s: seed s's initial weights and batch order, shared
    by every variant) gives s_r^2 = sum r^2 / ((K-1)(S-1)) and sigma^2 = |w|^2 s_r^2, with (K-1)(S-1) degrees
    of freedom. Otherwise each contrast uses its own d_s: sigma^2 = var(d_s), S-1 degrees of freedom (per-pair).
    The interval is mean d +- t(df) * se with se^2 = sigma^2/S + tau^2. Pooled, df is Welch-Satterthwaite's
    se^4 / ((sigma^2/S)^2 / df_sigma) (tau^2 rests on thousands of images and counts as known); per-pair it is
    S - 1, because Satterthwaite's df on 2 to 4 degrees of freedom is too liberal (in a run of analysis.simulate's
    null families of 3 variants, 100 resamples, forced per-pair: 7.4% false positives over 3,000 comparisons at
    3 seeds, 6.1% over 2,000 at 5, nominal 5%), while S - 1 leaves the
    fallback conservative. tests/test_simulate.py measures the calibration of the whole rule.

    Each contrast: difference, ci95, se, p (two-sided, of delta = 0), df, method ("pooled" or "per-pair"),
    pooling (the homogeneity check) and seeds; with one seed sigma is unknown: the image term alone,
    p = 1, method "one seed"."""
    plain, resampled, weights = (np.asarray(a, dtype=float) for a in (plain, resampled, weights))
    k, s = plain.shape
    d = weights @ plain  # (J, S)
    boot = np.einsum("jk,ksb->jsb", weights, resampled)
    mean = d.mean(axis=1)
    if s < 2:
        se = boot[:, 0].std(axis=1, ddof=1)
        half = float(_stats.norm.ppf(0.5 + level / 2)) * se
        return [{"difference": float(m), "ci95": [float(m - h), float(m + h)], "se": float(e), "p": 1.0, "df": None,
                 "method": "one seed", "seeds": 1} for m, h, e in zip(mean, half, se, strict=True)]
    centred = boot - boot.mean(axis=2, keepdims=True)
    cov = np.einsum("jsb,jtb->jst", centred, centred) / max(boot.shape[2] - 1, 1)
    tau2 = np.clip((cov.sum(axis=(1, 2)) - np.trace(cov, axis1=1, axis2=2)) / (s * (s - 1)), 0.0, None)
    check = homogeneity(plain)
    if k == 2:  # one pair: the pooled fit is its own variance, and Satterthwaite's df on S-1 would be too liberal
        check = {**check, "pooled": False, "reason": "two variants: one seed-paired difference, nothing to pool over"}
    pooled = check["pooled"] if pool is None else pool
    if pooled:
        resid = plain - plain.mean(axis=1, keepdims=True) - plain.mean(axis=0, keepdims=True) + plain.mean()
        df_sigma = float((k - 1) * (s - 1))
        sigma2 = (weights**2).sum(axis=1) * (resid**2).sum() / df_sigma
    else:
        df_sigma = float(s - 1)
        sigma2 = d.var(axis=1, ddof=1)
    a = sigma2 / s
    se = np.sqrt(a + tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(a > 0, (a + tau2) ** 2 / (a**2 / df_sigma), np.inf) if pooled else np.full(len(a), df_sigma)
        t = _stats.t.ppf(0.5 + level / 2, df)
        p = np.where(se > 0, 2 * _stats.t.sf(np.abs(mean) / se, df), np.where(mean == 0, 1.0, 0.0))
    method = "pooled" if pooled else "per-pair"
    return [{"difference": float(mean[j]), "ci95": [float(mean[j] - t[j] * se[j]), float(mean[j] + t[j] * se[j])],
             "se": float(se[j]), "p": float(p[j]), "df": float(df[j]), "method": method,
             "pooling": check, "seeds": s, "variants": k, "sigma2": float(sigma2[j]), "tau2": float(tau2[j])}
            for j in range(len(weights))]


def family_comparisons(scores: dict[str, tuple[np.ndarray, np.ndarray]], contrasts: dict[str, dict[str, float]],
                       level: float = 0.95, alpha: float = 0.05, power: float = 0.8,
                       seeds: dict[str, tuple[int, ...]] | None = None, target: float | None = None) -> dict[str, dict[str, Any]]:
    """Named contrasts ({variant: weight}) within one family, from each variant's run_scores: family_contrasts over
    the variants they name, Holm within the family (p_holm, significant_holm; `significant` is the unadjusted
    interval's), the Holm-adjusted interval `ci_holm` (holm_interval) and each contrast's own detectable
    difference after Holm; with a `target` difference, also the seeds it would need to detect it (seeds_needed).

    `seeds` names each variant's seeds in its scores' order. Variants with fewer seeds (the CNNs' study.cnn_seeds,
    a subset of study.seeds) are compared on the seeds they share: contrasts are fitted in groups by their
    common seeds, each group over the variants it names, and Holm runs over the whole family. Without `seeds`
    every variant must have the same number of runs, paired by position."""
    names = sorted({v for c in contrasts.values() for v in c})
    if seeds is None:
        counts = {len(scores[v][0]) for v in names}
        if len(counts) != 1:
            raise ValueError(f"contrast terms need the same number of seeds, got {sorted(counts)}")
        seeds = {v: tuple(range(len(scores[v][0]))) for v in names}
    groups: dict[tuple[int, ...], list[str]] = {}
    for label, c in contrasts.items():
        common = tuple(s for s in seeds[next(iter(c))] if all(s in seeds[v] for v in c))
        groups.setdefault(common, []).append(label)
    out: dict[str, dict[str, Any]] = {}
    for common, labels in groups.items():
        members = sorted({v for label in labels for v in contrasts[label]})
        at = {v: [seeds[v].index(s) for s in common] for v in members}
        w = np.array([[contrasts[label].get(v, 0.0) for v in members] for label in labels])
        fits = family_contrasts(np.array([scores[v][0][at[v]] for v in members]),
                                np.array([scores[v][1][at[v]] for v in members]), w, level)
        out |= {label: fit | {"seed_ids": list(common)} for label, fit in zip(labels, fits, strict=True)}
    out = {label: out[label] for label in contrasts}
    for label, h in holm({k: c["p"] for k, c in out.items()}, alpha).items():
        c = out[label]
        c.update(h)
        c["significant"] = bool(c["method"] != "one seed" and (c["ci95"][0] > 0 or c["ci95"][1] < 0))  # unadjusted
        c["ci_holm"] = holm_interval(c, alpha)
        c["detectable"] = (detectable_difference(c["se"], c["df"], power, alpha, len(out))
                           if c["df"] is not None else None)
        if target is not None and c["df"] is not None:
            c["target"] = target
            c["seeds_needed"] = seeds_needed(c, target, power, alpha, len(out))
    return out


def seeds_needed(c: dict[str, Any], target: float, power: float = 0.8, alpha: float = 0.05, tests: int = 1) -> int | None:
    """The fewest seeds with which this comparison, at its own noise (sigma^2 per seed, tau^2 shared by all, the
    same method), detects `target` with `power` after Holm over `tests`: its seed count or more, however many that
    is. None only when no seed count does: tau^2, the test images' shared noise, does not shrink with seeds, and
    with infinitely many seeds the detectable difference falls to tau's alone."""

    def detectable_at(n: float) -> float:
        a = c["sigma2"] / n
        if c["method"] == "pooled":
            df_sigma = (c["variants"] - 1) * (n - 1)
            df = (a + c["tau2"]) ** 2 / (a**2 / df_sigma) if a > 0 else float("inf")
        else:
            df = n - 1
        return detectable_difference(float(np.sqrt(a + c["tau2"])), df, power, alpha, tests)

    if detectable_difference(float(np.sqrt(c["tau2"])), float("inf"), power, alpha, tests) >= target:
        return None
    lo = max(c["seeds"], 2)
    if detectable_at(lo) <= target:
        return lo
    # detectable_at falls with n towards the limit above, which is below target: double, then bisect.
    hi = 2 * lo
    while detectable_at(hi) > target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if detectable_at(mid) <= target else (mid, hi)
    return hi


def holm_interval(c: dict[str, Any], alpha: float = 0.05) -> list[float]:
    """The interval at the level Holm's step-down tested this comparison at, 1 - alpha * p / p_holm (1 - alpha/m
    for the smallest p of m, 1 - alpha/(m-1) for the next, unless an earlier step carries): it excludes 0 exactly
    when the comparison is significant after Holm, so a printed interval never contradicts its verdict."""
    if c["df"] is None:
        return list(c["ci95"])
    share = c["p"] / c["p_holm"] if c["p_holm"] > 0 else 1.0
    t = float(_stats.t.ppf(1 - alpha * share / 2, c["df"])) if c["se"] > 0 else 0.0
    return [c["difference"] - t * c["se"], c["difference"] + t * c["se"]]


def paired_contrast(terms: list[tuple[list, float]], boot: np.ndarray, metric: str = "macro_recall") -> dict[str, Any]:
    """sum_k w_k * (seed-mean `metric` of variant k), paired by seed (the i-th run of every term together) and
    by test image, as a family of its own (family_comparisons): its mean, 95% interval, p-value of zero, and
    significant if it excludes 0 (never with one seed). a - b is [(a, 1), (b, -1)]; an interaction adds four terms."""
    scores = {str(i): run_scores(runs, boot)[metric] for i, (runs, _) in enumerate(terms)}
    return family_comparisons(scores, {"c": {str(i): w for i, (_, w) in enumerate(terms)}})["c"]


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
