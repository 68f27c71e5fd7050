"""fer_pipeline.analysis.bootstrap: resamples score as metrics does, bootstrap and paired differences behave."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from fer_pipeline.analysis.bootstrap import (
    bootstrap_counts,
    detectable_difference,
    family_comparisons,
    family_contrasts,
    paired_difference,
    per_class_recall,
    seed_image_interval,
    seed_image_intervals,
    seed_mean_scores,
    seeds_needed,
    summarize_variant,
    verdict,
)
from fer_pipeline.metrics import summary_scores, weighted_scores

RNG = np.random.default_rng(0)
Y = RNG.integers(0, 7, 300)
P = np.where(RNG.random(300) < 0.6, Y, RNG.integers(0, 7, 300))


def test_a_resample_scores_as_its_drawn_images_do():
    """The bootstrap's score of a resample is metrics' plain score of the images it drew (each repeated as often as
    drawn), on crafted data where one class (disgust) has a single true image: in a resample that misses it the
    class still counts as one of the 7, at recall 0, in both."""
    y = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 6, 6])
    p = np.array([0, 1, 0, 1, 2, 3, 3, 3, 0, 4, 6, 6, 6])
    w = bootstrap_counts(len(y), 200, seed=2)
    assert (w[:, 3] == 0).any() and (w[:, 3] > 0).any()  # resamples with and without the disgust image
    s = weighted_scores(y, p, w)
    for b in np.flatnonzero(w[:, 3] == 0)[:5].tolist() + np.flatnonzero(w[:, 3] > 0)[:5].tolist():
        drawn = np.repeat(np.arange(len(y)), w[b].astype(int))
        plain = summary_scores(y[drawn], p[drawn])
        for m in ("accuracy", "macro_recall", "macro_f1"):
            assert s[m][b] == pytest.approx(plain[m], abs=1e-6), (m, b)
    missing = np.flatnonzero(w[:, 3] == 0)[0]
    drawn = np.repeat(np.arange(len(y)), w[missing].astype(int))
    assert s["macro_recall"][missing] < summary_scores(y[drawn], p[drawn])["balanced_accuracy"] - 0.01


def test_summary_per_seed_is_the_evaluate_score():
    """A variant's per-seed scores in stats.json are metrics.summary_scores' (evaluate's), an absent class included."""
    y = np.array([0, 0, 2, 2, 3, 6])  # disgust, neutral etc. absent
    runs = [(y, np.array([0, 2, 2, 2, 3, 1])), (y, y.copy())]
    s = summarize_variant(runs, bootstrap_counts(len(y), 50))
    for m in ("accuracy", "macro_recall", "macro_f1"):
        assert s[m]["per_seed"] == pytest.approx([summary_scores(t, q)[m] for t, q in runs], abs=1e-6)
    assert s["macro_recall"]["per_seed"][1] == pytest.approx(4 / 7, abs=1e-6)  # the 4 classes present at recall 1, the 3 absent at 0


def test_bootstrap_counts_are_resamples():
    """Each row draws n images with replacement (counts sum to n), the same for the same seed."""
    w = bootstrap_counts(50, 20, seed=3)
    assert w.shape == (20, 50) and np.all(w.sum(axis=1) == 50)
    assert np.array_equal(w, bootstrap_counts(50, 20, seed=3))
    assert not np.array_equal(w, bootstrap_counts(50, 20, seed=4))


def test_summary_mean_sd_and_interval():
    """Mean and sd over seeds are of the per-seed plain scores; the 95% interval brackets the mean."""
    runs = [(Y, noisy(0.7, s)) for s in range(3)]
    s = summarize_variant(runs, bootstrap_counts(300, 400))
    per_seed = [skm.recall_score(Y, p, average="macro") for _, p in runs]
    assert s["macro_recall"]["per_seed"] == pytest.approx(per_seed)
    assert s["macro_recall"]["mean"] == pytest.approx(np.mean(per_seed))
    assert s["macro_recall"]["sd"] == pytest.approx(np.std(per_seed, ddof=1))
    lo, hi = s["macro_recall"]["ci95"]
    image_lo, image_hi = np.percentile(seed_mean_scores(runs, bootstrap_counts(300, 400))["macro_recall"], [2.5, 97.5])
    assert lo < image_lo < s["macro_recall"]["mean"] < image_hi < hi  # it counts the seeds' spread on top of the images'
    assert hi - lo < 2 * 4.31 * (np.std(per_seed, ddof=1) / np.sqrt(3) + 0.05)


def noisy(p_right: float, seed: int) -> np.ndarray:
    """Predictions right on about p_right of the images (others a fixed wrong class), drawn with this seed."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(len(Y)) < p_right, Y, (Y + 1) % 7)


def test_paired_difference_significance():
    """Seed-paired: a ~90%-right model beats a ~60%-right one significantly over three seeds; a model against
    itself differs by exactly 0; with one seed the training noise is unknown and nothing is significant."""
    boot = bootstrap_counts(300, 300)
    better = paired_difference([(Y, noisy(0.9, s)) for s in range(3)], [(Y, noisy(0.6, s + 9)) for s in range(3)], boot)
    assert better["difference"] > 0.2 and better["significant"] and better["ci95"][0] > 0 and better["p"] < 0.05
    same = paired_difference([(Y, P)] * 3, [(Y, P)] * 3, boot)
    assert same["difference"] == 0.0 and same["ci95"] == [0.0, 0.0] and not same["significant"]
    one = paired_difference([(Y, Y)], [(Y, P)], boot)
    assert one["difference"] > 0.3 and one["seeds"] == 1 and not one["significant"]


def test_seed_spread_widens_the_interval():
    """The same seed mean with a larger spread over seeds gets a wider interval (training noise counts), and
    the image standard error adds to it as a variance."""
    narrow = seed_image_interval(np.array([0.30, 0.30, 0.30]), 0.003)
    wide = seed_image_interval(np.array([0.28, 0.30, 0.32]), 0.003)
    assert narrow["mean"] == pytest.approx(wide["mean"])
    assert np.diff(wide["ci95"])[0] > 2 * np.diff(narrow["ci95"])[0]
    assert narrow["se"] == pytest.approx(0.003)
    assert wide["se"] == pytest.approx(np.sqrt(np.var([0.28, 0.30, 0.32], ddof=1) / 3 + 0.003**2))


@pytest.mark.parametrize("seeds", [3, 5])
@pytest.mark.parametrize("seed_sd", [0.010, 0.010 * np.sqrt(2)])
def test_interval_is_calibrated_on_null_studies(seeds, seed_sd):
    """Simulated studies whose true difference is 0, with seed sd 0.010 (of one variant, or of the difference of
    two independent ones) and test-image SE 0.0025 (one draw of the test set shared by all seeds): the interval
    calls at most 6% of 4,000 of them significant at nominal 5%. The image-only interval (the networks held
    fixed) is shown anti-conservative on the same studies, which is why it is not used."""
    rng = np.random.default_rng(seeds)
    n, image_se = 4000, 0.0025
    per_seed = rng.normal(0, seed_sd, (n, seeds)) + rng.normal(0, image_se, (n, 1))  # training noise + one test set
    # The bootstrap's own estimate of the image SE varies a little from study to study.
    estimated_se = image_se * np.sqrt(rng.chisquare(500, n) / 500)
    r = seed_image_intervals(per_seed, estimated_se)
    false_positive = np.mean((r["low"] > 0) | (r["high"] < 0))
    assert false_positive <= 0.06
    image_only = np.mean(np.abs(per_seed.mean(1)) > 1.96 * estimated_se)
    assert image_only > 0.25


def test_per_class_recall():
    """Per-class recall averages over seeds; a class without a true image has recall 0."""
    r = per_class_recall([(np.array([0, 0, 1]), np.array([0, 1, 1])), (np.array([0, 0, 1]), np.array([0, 0, 0]))])
    assert r["angry"] == pytest.approx((0.5 + 1.0) / 2) and r["disgust"] == pytest.approx((1.0 + 0.0) / 2)
    assert r["fear"] == 0.0


def test_a_score_interval_stays_within_0_and_1():
    """Seeds far apart near a perfect score would put the t interval past 1; a score's interval is clipped to
    [0, 1], while its mean and sd are untouched."""
    good = (Y, Y.copy())
    bad = (Y, np.where(RNG.random(300) < 0.5, Y, (Y + 1) % 7))
    s = summarize_variant([good, good, bad], bootstrap_counts(300, 200))
    lo, hi = s["macro_recall"]["ci95"]
    assert 0.0 <= lo and hi == 1.0 and s["macro_recall"]["mean"] < 1.0
    assert s["macro_recall"]["sd"] > 0.2


def test_verdict_is_holms_and_the_sign():
    """A comparison is "higher" or "lower" by its sign only when significant after Holm, else "no difference
    shown", whatever its raw significance; stats' disagreements and the report both word it so."""
    assert verdict({"difference": 0.02, "significant_holm": True}) == "higher"
    assert verdict({"difference": -0.02, "significant_holm": True}) == "lower"
    assert verdict({"difference": 0.02, "significant": True, "significant_holm": False}) == "no difference shown"
    import fer_pipeline.analysis.report as report
    import fer_pipeline.analysis.stats as stats

    assert report.verdict is verdict and stats.verdict is verdict


def crafted_family(image: bool = True):
    """Three variants at 3 seeds, y_ks = mu_k + b_s + eps * r_ks with r's rows and columns summing to 0 (each row
    the same spread), and resamples that add to each run an image error shared by the variant's seeds and one of
    its own: the pooled residual variance is 1.5 eps^2 with 4 degrees of freedom, by hand."""
    eps, mu, b = 0.01, np.array([0.30, 0.33, 0.31]), np.array([0.0, 0.02, -0.01])
    r = np.array([[1, -1, 0], [0, 1, -1], [-1, 0, 1]], dtype=float)
    plain = mu[:, None] + b[None, :] + eps * r
    rng = np.random.default_rng(7)
    shared, own = rng.normal(0, 0.003, (3, 1, 4000)), rng.normal(0, 0.004, (3, 3, 4000))
    resampled = plain[:, :, None] + (shared + own if image else np.zeros((1, 1, 2)))
    return plain, resampled, shared, own


def test_pooled_interval_on_a_crafted_family():
    """Without image noise, the pooled interval of variant 1 - variant 0 is 0.03 +- t(0.975, 4) * eps (se^2 = 2 *
    1.5 eps^2 / 3): the residual variance pooled over the 3 variants with (3-1)(3-1) = 4 degrees of freedom; the
    per-pair interval has the same se here but 2 degrees of freedom, so it is wider."""
    plain, resampled, _, _ = crafted_family(image=False)
    w = np.array([[-1.0, 1.0, 0.0]])
    pooled = family_contrasts(plain, resampled, w)[0]
    assert pooled["method"] == "pooled" and pooled["pooling"]["pooled"]
    assert pooled["difference"] == pytest.approx(0.03) and pooled["se"] == pytest.approx(0.01) and pooled["df"] == 4
    assert pooled["ci95"] == pytest.approx([0.03 - stats.t.ppf(0.975, 4) * 0.01, 0.03 + stats.t.ppf(0.975, 4) * 0.01])
    assert pooled["p"] == pytest.approx(2 * stats.t.sf(3.0, 4))
    pair = family_contrasts(plain, resampled, w, pool=False)[0]
    assert pair["method"] == "per-pair" and pair["df"] == 2 and pair["se"] == pytest.approx(0.01)
    assert np.diff(pair["ci95"])[0] > np.diff(pooled["ci95"])[0]


def test_image_term_counts_only_the_noise_the_seeds_share():
    """With image errors shared by a variant's seeds (sd 0.003) and each run's own (sd 0.004), the variance of a
    difference's seed mean is the seed term plus the shared image variance only, var(shared_1 - shared_0) (about
    2 * 0.003^2), not the bootstrap variance of the seed mean, which adds the own part (2 * 0.004^2 / 3) that the
    seeds' spread already holds."""
    plain, resampled, shared, own = crafted_family()
    c = family_contrasts(plain, resampled, np.array([[-1.0, 1.0, 0.0]]))[0]
    tau2 = c["se"] ** 2 - 0.01**2
    assert tau2 == pytest.approx(np.var(shared[1] - shared[0], ddof=1), rel=0.1)
    assert tau2 == pytest.approx(2 * 0.003**2, rel=0.15)
    boot_var = np.var((resampled[1] - resampled[0]).mean(axis=0), ddof=1)
    assert boot_var - tau2 == pytest.approx(2 * 0.004**2 / 3, rel=0.15)
    # Welch-Satterthwaite: the known image term adds degrees of freedom to the seed term's 4
    assert c["df"] == pytest.approx((0.01**2 + tau2) ** 2 / (0.01**4 / 4))


def test_heterogeneous_seed_noise_falls_back_to_per_pair():
    """A variant whose seeds spread 20 times more than the others' fails the homogeneity check: every contrast of
    the family then uses its own seed spread (S - 1 degrees of freedom), and the output says which and why."""
    plain, resampled, _, _ = crafted_family(image=False)
    plain[2] += 20 * 0.01 * np.array([1.0, -2.0, 1.0])
    cs = family_contrasts(plain, plain[:, :, None] + resampled * 0.0, np.array([[-1.0, 1.0, 0.0], [-1.0, 0.0, 1.0]]))
    assert [c["method"] for c in cs] == ["per-pair", "per-pair"] and [c["df"] for c in cs] == [2, 2]
    assert not cs[0]["pooling"]["pooled"] and "F(0.95; 2, 2)" in cs[0]["pooling"]["reason"]
    assert cs[0]["pooling"]["variance_ratio"] > cs[0]["pooling"]["bound"]


def test_holm_interval_excludes_zero_iff_significant_after_holm():
    """Each comparison's Holm-adjusted interval (at 1 - alpha * p / p_holm) excludes 0 exactly when
    significant_holm says so, across a family whose raw intervals exclude 0 more often than Holm allows."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        plain = rng.normal(0.3, 0.01, (5, 3)) + np.array([0, 0.02, 0.015, 0.03, -0.01])[:, None]
        resampled = plain[:, :, None] + rng.normal(0, 0.002, (5, 1, 300))
        scores = {str(k): (plain[k], resampled[k]) for k in range(5)}
        out = family_comparisons(scores, {str(k): {str(k): 1.0, "0": -1.0} for k in range(1, 5)})
        for c in out.values():
            lo, hi = c["ci_holm"]
            assert (lo > 0 or hi < 0) == c["significant_holm"], c
            assert lo <= c["ci95"][0] and c["ci95"][1] <= hi  # never narrower than the unadjusted one
            assert c["detectable"] > 0


def test_variants_with_fewer_seeds_are_compared_on_the_seeds_they_share():
    """A family whose CNN has seeds 0-2 and whose MLPs have 0-4: the CNN's comparison uses seeds 0-2 of the control
    (seed ids, not positions), the MLP's all five, each fitted in its own group; Holm runs over both. The same
    numbers with the control cut to seeds 0-2 by hand give the CNN's comparison exactly."""
    rng = np.random.default_rng(5)
    plain = {"base": rng.normal(0.3, 0.01, 5), "mlp3": rng.normal(0.31, 0.01, 5), "mlp3_bn": rng.normal(0.3, 0.01, 5),
             "cnn": rng.normal(0.45, 0.01, 3)}
    scores = {v: (p, p[:, None] + rng.normal(0, 0.003, (len(p), 200))) for v, p in plain.items()}
    seeds = {v: (0, 1, 2) if v == "cnn" else (0, 1, 2, 3, 4) for v in plain}
    named = {v: {v: 1.0, "base": -1.0} for v in ("mlp3", "mlp3_bn", "cnn")}
    out = family_comparisons(scores, named, seeds=seeds)
    assert [out[v]["seeds"] for v in named] == [5, 5, 3] and out["cnn"]["seed_ids"] == [0, 1, 2]
    assert out["mlp3"]["df"] > 4  # pooled over base, mlp3 and mlp3_bn: (3-1)(5-1) = 8 before the image term
    cut = {"base": (scores["base"][0][:3], scores["base"][1][:3]), "cnn": scores["cnn"]}
    alone = family_comparisons(cut, {"cnn": {"cnn": 1.0, "base": -1.0}})["cnn"]
    assert out["cnn"]["difference"] == pytest.approx(alone["difference"]) and out["cnn"]["se"] == pytest.approx(alone["se"])
    assert out["cnn"]["method"] == "per-pair" and "nothing to pool" in out["cnn"]["pooling"]["reason"]
    assert max(c["p_holm"] for c in out.values()) <= 1.0 and out["cnn"]["p_holm"] >= out["cnn"]["p"]


def test_seeds_needed_is_the_fewest_that_reach_the_target():
    """A comparison whose detectable difference misses the target says how many seeds would reach it at its own
    noise: at that count the detectable difference is at most the target and one seed fewer it is above; when the
    shared image noise alone exceeds the target no seed count reaches it (None)."""
    c = {"seeds": 3, "variants": 4, "sigma2": 0.012**2, "tau2": 0.003**2, "method": "pooled"}
    n = seeds_needed(c, 0.02, tests=3)
    assert n is not None and n > 3

    def at(k: int) -> float:
        a = c["sigma2"] / k
        df = (a + c["tau2"]) ** 2 / (a**2 / ((c["variants"] - 1) * (k - 1)))
        return detectable_difference(float(np.sqrt(a + c["tau2"])), df, tests=3)

    assert at(n) <= 0.02 < at(n - 1)
    assert seeds_needed({**c, "tau2": 0.01**2}, 0.02, tests=3) is None
    assert seeds_needed({**c, "method": "per-pair"}, 0.02, tests=3) >= n  # S - 1 df: never fewer than pooled


def test_seeds_needed_counts_past_any_fixed_limit():
    """A comparison that seeds can bring to the target gets a seed count however large it is, and None only when
    the test images' shared noise alone exceeds the target. The study's CNN against the base (3 seeds, per-pair,
    sigma^2 0.0044, tau^2 8e-6, Holm over 5) needs more than 50 seeds; it must not read as unreachable."""
    c = {"seeds": 3, "variants": 2, "sigma2": 0.0044, "tau2": 8e-6, "method": "per-pair"}
    n = seeds_needed(c, 0.03, tests=5)
    assert n is not None and n > 50

    def at(k: int) -> float:
        return detectable_difference(float(np.sqrt(c["sigma2"] / k + c["tau2"])), k - 1, tests=5)

    assert at(n) <= 0.03 < at(n - 1)
    limit = detectable_difference(float(np.sqrt(c["tau2"])), float("inf"), tests=5)
    assert seeds_needed({**c, "tau2": (0.03 / limit) ** 2 * c["tau2"] * 1.01}, 0.03, tests=5) is None
