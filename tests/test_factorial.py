"""fer_pipeline.analysis.factorial: the two-level design over the carried picks (full up to three factors, the
resolution-IV half fraction for four), its effect columns and alias sets, and the fit that weighs each effect
against the pooled seed noise."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fer_pipeline.analysis.factorial import columns, design_size, effect_weights, fit, fraction

FOUR = ["activation", "batch_size", "optimizer", "imbalance"]


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 2), (2, 4), (3, 8), (4, 8), (5, 16)])
def test_design_sizes_and_the_all_base_point_first(k, n):
    """The full 2^k up to three factors, the half 2^(k-1) above; every point distinct, the all-base point first (it
    is the chosen architecture's own run, never trained again)."""
    points = fraction(k)
    assert len(points) == n == design_size(k) and len(set(points)) == n
    assert points[0] == (-1,) * k


def test_half_fraction_is_resolution_iv():
    """For four factors: an even number of picks per point (I = +ABCD); every main-effect column is orthogonal to
    every other main effect and to every two-factor interaction; the six interactions fall in three alias pairs."""
    points = np.array(fraction(4), dtype=float)
    assert all(int((p > 0).sum()) % 2 == 0 for p in points)
    mains = [points[:, j] for j in range(4)]
    twos = {(i, j): points[:, i] * points[:, j] for i, j in itertools.combinations(range(4), 2)}
    for a, b in itertools.combinations(mains, 2):
        assert a @ b == 0
    for m in mains:
        assert all(m @ t == 0 for t in twos.values())
    assert np.array_equal(twos[(0, 1)], twos[(2, 3)]) and np.array_equal(twos[(0, 2)], twos[(1, 3)])
    cols = columns(FOUR, fraction(4))
    assert list(cols)[:4] == FOUR and len(cols) == 7
    assert "activation×batch_size = optimizer×imbalance" in cols


def crafted(k: int, mains: dict[str, float], inter: dict[tuple[str, str], float], seeds: int = 4,
            noise: float = 0.0) -> tuple[list[str], list[tuple[int, ...]], np.ndarray]:
    """Scores points x seeds: a seed effect shared by every point, each main effect and two-factor interaction as
    given (an effect is the + mean minus the - mean, so each adds half of itself times its column), and noise."""
    factors, points = FOUR[:k], fraction(k)
    rng = np.random.default_rng(0)
    seed_effect = rng.normal(0, 0.05, seeds)
    x = np.array(points, dtype=float).reshape(len(points), k)
    idx = {f: j for j, f in enumerate(factors)}
    mean = np.full(len(points), 0.4) + sum(e / 2 * x[:, idx[f]] for f, e in mains.items()) + sum(
        e / 2 * x[:, idx[a]] * x[:, idx[b]] for (a, b), e in inter.items())
    return factors, points, mean[:, None] + seed_effect[None, :] + rng.normal(0, noise, (len(points), seeds))


def test_fit_recovers_known_main_effects_and_interactions():
    """In the full 2^3 every main effect and interaction comes back exactly as crafted, whatever the seeds' own
    effect; in the half fraction of 4 the main effects do, and an interaction comes back as its alias set's sum."""
    mains = {"activation": 0.03, "batch_size": -0.02, "optimizer": 0.0}
    factors, points, y = crafted(3, mains, {("activation", "optimizer"): 0.04})
    effects = fit(factors, points, y)["effects"]
    for f, e in mains.items():
        assert effects[f]["effect"] == pytest.approx(e, abs=1e-12)
    assert effects["activation×optimizer"]["effect"] == pytest.approx(0.04, abs=1e-12)
    assert effects["activation×batch_size"]["effect"] == pytest.approx(0.0, abs=1e-12)
    mains4 = mains | {"imbalance": 0.05}
    factors, points, y = crafted(4, mains4, {("activation", "batch_size"): 0.02, ("optimizer", "imbalance"): 0.01})
    effects = fit(factors, points, y)["effects"]
    for f, e in mains4.items():
        assert effects[f]["effect"] == pytest.approx(e, abs=1e-12)
    assert effects["activation×batch_size = optimizer×imbalance"]["effect"] == pytest.approx(0.03, abs=1e-12)


def test_keep_rule_weighs_each_effect_against_its_noise():
    """With seed noise, effects many standard errors from zero enter the model; over 300 simulated designs a null
    effect enters at about the keep level (10%, two-sided), so the pooled noise (effects x (seeds - 1) degrees of
    freedom) is the right yardstick; the best point is the one the kept terms favour."""
    factors, points, y = crafted(3, {"activation": 0.06, "batch_size": 0.0, "optimizer": -0.05}, {}, seeds=5, noise=0.005)
    out = fit(factors, points, y)
    assert out["effects"]["activation"]["kept"] and out["effects"]["optimizer"]["kept"]
    assert out["df"] == 6 * 4  # 3 main effects and 3 interactions, 5 seeds
    assert points[out["best"]][0] == 1 and points[out["best"]][2] == -1  # activation's pick, optimizer's base
    assert out["fitted"][out["best"]] == max(out["fitted"])
    rng = np.random.default_rng(1)
    kept = [e["kept"] for _ in range(300)
            for e in fit(factors, points, rng.normal(0.4, 0.01, (8, 3)) + rng.normal(0, 0.05, 3))["effects"].values()]
    assert 0.07 <= np.mean(kept) <= 0.13, np.mean(kept)


def test_nothing_kept_leaves_the_all_base_point():
    """With no term kept every fitted score is the grand mean and the all-base point is the best, so no pick
    replaces the base's value without evidence."""
    factors, points = FOUR[:2], fraction(2)
    out = fit(factors, points, np.full((4, 3), 0.4) + np.array([0.0, 0.01, -0.01]))
    assert not any(e["kept"] for e in out["effects"].values())
    assert out["best"] == 0 and len(set(out["fitted"])) == 1
    assert effect_weights(np.array([1.0, -1.0, 1.0, -1.0])) @ np.array([1.0, 0.0, 1.0, 0.0]) == pytest.approx(1.0)
