"""fer_pipeline.analysis.simulate: the stats stage's comparisons (stats.compare on bootstrap.run_scores) are
calibrated and their power is measured on studies simulated at the level of test images, with FER2013's test
class counts, image difficulty shared by every network, variant x image effects shared by a variant's seeds,
seed effects shared by the variants, and each network's own noise.

The simulation scores with 100 bootstrap resamples (the study uses params' study.bootstrap, 1000): the image
term's estimate is then a little noisier than the study's. BLAS runs on one thread: the calls are small and many,
and threads only contend on the 2 shared cores."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from fer_pipeline.analysis import simulate as sim
from fer_pipeline.analysis.bootstrap import bootstrap_counts, run_scores
from fer_pipeline.metrics import summary_scores

RESAMPLES = 100
Y = sim.labels()
BOOT = bootstrap_counts(len(Y), RESAMPLES, seed=0)  # the same rows for every simulated study: its images are exchangeable


@pytest.fixture(autouse=True)
def one_thread():
    with threadpool_limits(1):
        yield


def test_simulated_test_set_has_fer2013_class_counts_and_known_effects():
    """7,178 images in FER2013's class counts; a variant shifted by shift_for(0.05) scores about 0.05 above one
    at shift 0 in macro recall (the metric code's), averaged over networks."""
    assert len(Y) == 7178 and np.bincount(Y).tolist() == list(sim.FER2013_TEST)
    noise = sim.Noise()
    rng = np.random.default_rng(0)
    runs = sim.simulate_runs(rng, Y, np.array([0.0, sim.shift_for(0.05, noise)]), 40, noise)
    means = [np.mean([summary_scores(t, p)["macro_recall"] for t, p in r]) for r in runs]
    assert abs(means[0] - sim.macro_recall(0.0, noise)) < 0.01
    assert abs(means[1] - means[0] - 0.05) < 0.01


def test_a_crafted_null_family_has_the_studys_noise():
    """The simulated noise is the study's order of magnitude: a per-seed sd of a difference of 0.007-0.02 and an
    image noise shared across seeds (the image term) of 0.001-0.006 in macro recall."""
    rng = np.random.default_rng(1)
    sds, taus = [], []
    for _ in range(20):
        a, b = (run_scores(r, BOOT)["macro_recall"] for r in sim.simulate_runs(rng, Y, np.zeros(2), 3, sim.Noise()))
        sds.append(np.std(a[0] - b[0], ddof=1))
        cov = np.cov(a[1] - b[1])
        taus.append((cov.sum() - np.trace(cov)) / 6)
    print(f"per-seed sd of a difference {np.sqrt(np.mean(np.square(sds))):.4f}, shared image SE {np.sqrt(max(np.mean(taus), 0)):.4f}")
    assert 0.007 < np.sqrt(np.mean(np.square(sds))) < 0.02
    assert 0.001 < np.sqrt(max(np.mean(taus), 0)) < 0.006


@pytest.mark.slow
@pytest.mark.parametrize("seeds", [3, 5])
def test_false_positive_rate_is_nominal_on_null_studies(seeds):
    """2,000 null studies, each a family of a control and two variants with no true difference: the comparisons
    stats.compare calls significant at nominal 0.05 (unadjusted p) are between 3% and 6% of them, and after Holm
    at most 5% of the families have any."""
    rng = np.random.default_rng(100 + seeds)
    noise = sim.Noise()
    p, holm_any, pooled = [], [], []
    for _ in range(2000):
        out = sim.simulate_study(rng, Y, BOOT, (0.0, 0.0), seeds, noise)
        p += [c["p"] for c in out.values()]
        holm_any.append(any(c["significant_holm"] for c in out.values()))
        pooled += [c["method"] == "pooled" for c in out.values()]
    rate = float(np.mean(np.array(p) < 0.05))
    print(f"\n{seeds} seeds, {RESAMPLES} resamples: false-positive rate {rate:.4f} of {len(p)} comparisons, "
          f"family-wise after Holm {np.mean(holm_any):.4f}, pooled in {np.mean(pooled):.3f}")
    assert 0.03 <= rate <= 0.06
    assert np.mean(holm_any) <= 0.05


@pytest.mark.slow
def test_power_grows_with_the_difference_and_the_seeds():
    """Families of a control and three variants, one truly better by 0.02, 0.03 or 0.05 in macro recall and two
    null: the share of 200 studies where Holm finds the true one significantly higher grows with the difference
    and with the seeds (3 and 5); the table is printed."""
    noise = sim.Noise()
    power, detectable = {}, {}
    for seeds in (3, 5):
        for diff in (0.02, 0.03, 0.05):
            rng = np.random.default_rng(int(1000 * diff) + seeds)
            hits, own = [], []
            for _ in range(200):
                c = sim.simulate_study(rng, Y, BOOT, (diff, 0.0, 0.0), seeds, noise)["1"]
                hits.append(c["significant_holm"] and c["difference"] > 0)
                own.append(c["detectable"])
            power[seeds, diff], detectable[seeds] = float(np.mean(hits)), float(np.median(own))
    print(f"\npower after Holm over 3 comparisons ({RESAMPLES} resamples, 200 studies each)")
    print("seeds | 0.02 | 0.03 | 0.05 | median own detectable difference")
    for seeds in (3, 5):
        print(f"{seeds} | " + " | ".join(f"{power[seeds, d]:.2f}" for d in (0.02, 0.03, 0.05)) + f" | {detectable[seeds]:.3f}")
    for seeds in (3, 5):
        assert power[seeds, 0.02] < power[seeds, 0.03] < power[seeds, 0.05]
    for diff in (0.02, 0.03, 0.05):
        assert power[3, diff] <= power[5, diff]
    assert power[5, 0.05] > 0.5
