"""The two-level factorial over the carried factors at the chosen architecture: which configurations it trains and
which effects it measures.

Each carried factor whose validation pick differs from the base's value has two levels, the base's (-1) and the
pick (+1). With k such factors the design is the full 2^k for k <= 3 (at most 8 configurations) and the half
fraction 2^(k-1) of the points with an even number of picks for k >= 4 (the defining relation I = (-1)^k AB...K,
so the all-base point is in it). For k = 4 that is resolution IV: main effects are aliased only with three-factor interactions, and the
two-factor interactions in pairs (AB = CD). The all-base point, the chosen architecture alone, is in every design:
it is that architecture's own axis run, never trained again.

An effect is a contrast of the points' scores: mean over the points where its column is +1 minus mean where it is
-1. A main effect's column is the factor's levels, a two-factor interaction's the product of two; in a fraction
some columns coincide, and the effects they measure are one alias set.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy import stats as _stats

FULL_UP_TO = 3  # factors: a full factorial up to this many (8 configurations), a half fraction above


def design_size(k: int) -> int:
    """The number of configurations of the design over k factors."""
    return 2**k if k <= FULL_UP_TO else 2 ** (k - 1)


def fraction(k: int) -> list[tuple[int, ...]]:
    """The design's points as levels (-1 base, +1 pick) per factor, in standard order from the all-base point:
    the full 2^k for k <= FULL_UP_TO, else the half with an even number of picks (I = (-1)^k AB...K)."""
    points = [tuple(-1 if bit == "0" else 1 for bit in reversed(f"{i:0{k}b}")) if k else () for i in range(2**k)]
    return points if k <= FULL_UP_TO else [p for p in points if sum(x > 0 for x in p) % 2 == 0]


def columns(factors: list[str], points: list[tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Each estimable effect's +-1 column over the points: every main effect, then every two-factor interaction
    not aliased with one before it; an aliased column's name lists its alias set ("a×b = c×d")."""
    out: dict[str, np.ndarray] = {}
    if not points:
        return out
    levels = np.array(points, dtype=float).reshape(len(points), len(factors))
    candidates = [(f, levels[:, j]) for j, f in enumerate(factors)] + [
        (f"{a}×{b}", levels[:, i] * levels[:, j]) for (i, a), (j, b) in itertools.combinations(enumerate(factors), 2)]
    for name, col in candidates:
        if np.all(col == col[0]):  # constant: the design cannot see it
            continue
        same = next((n for n, c in out.items() if np.array_equal(c, col) or np.array_equal(c, -col)), None)
        if same is None:
            out[name] = col
        elif "×" in name:
            out[f"{same} = {name}"] = out.pop(same)
    return out


def effect_weights(col: np.ndarray) -> np.ndarray:
    """The weights of an effect's contrast over the points: +1/n+ where its column is +1, -1/n- where -1."""
    plus, minus = col > 0, col < 0
    return np.where(plus, 1.0 / plus.sum(), 0.0) - np.where(minus, 1.0 / minus.sum(), 0.0)


def fit(factors: list[str], points: list[tuple[int, ...]], scores: np.ndarray, keep_level: float = 0.10) -> dict[str, Any]:
    """The effects measured on `scores` (points x seeds, paired by seed), each against its noise.

    Per seed s, effect_s = sum over points of weight * score; the effect is their mean. The effects of one design
    share one noise level (each is a balanced +-1 contrast over the same runs), so their seed-to-seed variance is
    pooled: sigma^2 = mean over effects of var_s(effect_s), with effects x (S - 1) degrees of freedom, and each
    effect's standard error is sqrt(sigma^2 / S). An effect is kept when |t| = |effect| / se exceeds
    t(1 - keep_level / 2, df): a pick replaces the base's value only on evidence, and the base stays otherwise.

    Each point's fitted score is the seed-mean grand mean plus half of every kept effect times its column; the
    best point is the one with the highest fitted score (ties: the first, i.e. fewer picks). With nothing kept
    every fitted score is the grand mean and the best point is the all-base one."""
    scores = np.asarray(scores, dtype=float)
    cols = columns(factors, points)
    n_seeds = scores.shape[1]
    per_seed = {name: effect_weights(col) @ scores for name, col in cols.items()}
    pooled = float(np.mean([v.var(ddof=1) for v in per_seed.values()])) if cols and n_seeds > 1 else float("nan")
    df = len(cols) * (n_seeds - 1)
    se = float(np.sqrt(pooled / n_seeds)) if df else float("nan")
    bound = float(_stats.t.ppf(1 - keep_level / 2, df)) if df else float("inf")
    effects = {}
    for name, v in per_seed.items():
        mean = float(v.mean())
        t = mean / se if se > 0 else (0.0 if mean == 0 else float(np.sign(mean)) * float("inf"))  # no noise: any effect shows
        effects[name] = {"effect": mean, "se": se, "t": t, "df": df, "p": float(2 * _stats.t.sf(abs(t), df)) if df else 1.0,
                         "kept": bool(abs(t) > bound), "per_seed": v.tolist()}
    grand = float(scores.mean())
    fitted = [grand + sum(e["effect"] / 2 * cols[n][i] for n, e in effects.items() if e["kept"]) for i in range(len(points))]
    return {"effects": effects, "sigma2": pooled, "df": df, "keep_bound": bound, "fitted": fitted,
            "best": int(np.argmax(fitted)) if fitted else 0}
