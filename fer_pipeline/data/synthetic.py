"""Synthetic stand-in for FER2013: 48x48 cartoon faces whose drawn features depend on the expression.

Used when the real archive is absent (CI, quick checks). Everything is drawn with vectorised numpy
on a per-sample rotated/scaled coordinate grid, with soft (anti-aliased) shapes from distance
functions, so the same arguments always give byte-identical arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fer_pipeline import CLASSES, IMAGE_SIZE, FerError
from fer_pipeline.data.dataset import RawDataset

# FER2013's class counts (CLASSES order), so class imbalance matches the real data set.
FER_TRAIN_COUNTS = (3995, 436, 4097, 7215, 4965, 4830, 3171)
FER_TEST_COUNTS = (958, 111, 1024, 1774, 1233, 1247, 831)

# Expression parameters per class, in CLASSES order. Units are face-local pixels (face ~30 px wide),
# v grows downwards. Neutral is the reference every expression is blended from.
#   eye_open: half-height of the eye opening       brow_in/brow_out: brow end heights above the eye line
#   brow_asym: extra lowering of one brow          mouth_w: half-width of the mouth
#   mouth_curve: corner lift (+ smile, - frown)    mouth_open: half-height of the opening at its centre
#   mouth_round: opening profile (0 = lens, 1 = round O)   mouth_tilt: one corner raised
#   wrinkle: darkness of nose wrinkles             mouth_y: mouth centre height
# The aligned table is easier to read and tune than one value per line.
# fmt: off
_PARAMS: dict[str, tuple[float, ...]] = {
    #            eye   b_in  b_out b_asym m_w   m_curv m_open m_rnd m_tilt wrinkle m_y
    "angry":    (1.7, 3.2, 7.8, 0.0, 5.0, -0.7, 0.05, 0.0, 0.0, 0.25, 9.4),
    "disgust":  (1.1, 4.3, 5.8, 1.6, 5.5, -1.4, 0.50, 0.0, 1.8, 0.90, 8.6),
    "fear":     (2.8, 8.4, 8.0, 0.0, 7.8, -0.8, 1.80, 0.0, 0.0, 0.00, 9.6),
    "happy":    (1.0, 6.0, 6.0, 0.0, 7.4, 3.2, 1.00, 0.0, 0.0, 0.00, 9.0),
    "neutral":  (2.0, 6.0, 6.0, 0.0, 5.8, 0.0, 0.05, 0.0, 0.0, 0.00, 9.5),
    "sad":      (1.7, 8.6, 5.2, 0.0, 5.6, -2.6, 0.05, 0.0, 0.0, 0.00, 9.8),
    "surprise": (3.0, 9.2, 9.0, 0.0, 3.6, 0.0, 3.80, 1.0, 0.0, 0.00, 10.0),
}
# fmt: on
_NAMES = (
    "eye_open",
    "brow_in",
    "brow_out",
    "brow_asym",
    "mouth_w",
    "mouth_curve",
    "mouth_open",
    "mouth_round",
    "mouth_tilt",
    "wrinkle",
    "mouth_y",
)
# Per-sample spread of each parameter; wide enough that neighbouring classes overlap.
_SPREAD = (0.35, 0.9, 0.9, 0.4, 0.7, 0.7, 0.35, 0.2, 0.4, 0.15, 0.5)

# Images drawn at a time. Small chunks keep each float32 temporary (8*48*48*4 = 72 KiB) in cache
# and under glibc's 128 KiB mmap threshold, so freed buffers are reused instead of being mapped
# and page-faulted afresh for every operation: 2x faster cold than 64, 2-3x faster than 256.
_CHUNK = 8


def allocate(n: int, counts: tuple[int, ...] | list[int]) -> np.ndarray:
    """Split n across classes in proportion to counts (largest remainder), each class >= 1 when n >= 7."""
    weights = np.asarray(counts, dtype=np.float64)
    quota = n * weights / weights.sum()
    alloc = np.floor(quota).astype(np.int64)
    # Stable sort on the negated remainder: ties go to the earlier class, deterministically.
    order = np.argsort(-(quota - alloc), kind="stable")
    alloc[order[: n - int(alloc.sum())]] += 1
    if n >= len(counts):
        # Rare classes (disgust) can round to zero in tiny splits; borrow from the largest class.
        for c in np.flatnonzero(alloc == 0):
            alloc[int(np.argmax(alloc))] -= 1
            alloc[c] = 1
    return alloc


Params = dict[str, np.ndarray]  # per-sample parameters, shape (n,) or broadcast as (n,1,1)


def _coverage(dist: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage of a shape from its signed distance in pixels (negative inside)."""
    # In-place max/min: np.clip's dispatch overhead is a visible share of the drawing time.
    cov = 0.5 - dist
    np.maximum(cov, 0.0, out=cov)
    return np.minimum(cov, 1.0, out=cov)


def _paint(img: np.ndarray, cov: np.ndarray, tone: np.ndarray) -> np.ndarray:
    """Blend a per-image tone into img in proportion to coverage."""
    return img + cov * (tone - img)


def _segment_dist(px: np.ndarray, py: np.ndarray, ax: Any, ay: Any, bx: Any, by: Any) -> np.ndarray:
    """Distance from points (px,py) to the segment a-b (endpoints may be scalars or arrays)."""
    dx, dy = bx - ax, by - ay
    qx, qy = px - ax, py - ay
    t = (qx * dx + qy * dy) / (dx * dx + dy * dy)
    np.maximum(t, 0.0, out=t)
    np.minimum(t, 1.0, out=t)
    ex, ey = qx - t * dx, qy - t * dy
    # sqrt of the sum is markedly faster than np.hypot and precise enough at these magnitudes.
    return np.sqrt(ex * ex + ey * ey)


def _draw_face(u: np.ndarray, v: np.ndarray, s: np.ndarray, p: Params) -> np.ndarray:
    """Background, an optional hair cap and the skin-toned face ellipse."""
    img = np.broadcast_to(p["bg"], u.shape).astype(np.float32)
    ra, rb = 15.0 * p["face_aspect"], 18.5
    # Ellipse distance approximation, scaled to pixels so edges stay anti-aliased at every scale.
    r = np.sqrt((u / (ra + 1.8)) ** 2 + (v / (rb + 1.8)) ** 2)
    head = _coverage((r - 1.0) * (rb + 1.8) * s)
    hair = head * _coverage((v - p["hairline"] - 0.08 * u * u) * s) * p["has_hair"]
    img = _paint(img, hair, p["hair_tone"])
    r = np.sqrt((u / ra) ** 2 + (v / rb) ** 2)
    face = _coverage((r - 1.0) * rb * s) * (1.0 - hair)
    return _paint(img, face, p["skin"])


def _draw_eyes(img: np.ndarray, u: np.ndarray, v: np.ndarray, s: np.ndarray, p: Params) -> np.ndarray:
    """Eyes: light sclera, dark outline and iris; the opening height carries the expression."""
    au = np.abs(u)  # both eyes at once: the face is mirror-symmetric in u
    ex, ey = 6.0, -4.0
    half_h = np.maximum(p["eye_open"], 0.35)
    # Squinted eyes collapse to a dark slit; wide eyes show white above and below the iris.
    r = np.sqrt(((au - ex) / 3.3) ** 2 + ((v - ey) / half_h) ** 2)
    sclera = _coverage((r - 1.0) * np.minimum(half_h, 3.3) * s)
    outline = _coverage((np.abs(r - 1.0) * np.minimum(half_h, 3.3) - 0.45) * s)
    iris = np.minimum(_coverage((np.sqrt((au - ex) ** 2 + (v - ey) ** 2) - 1.7) * s), sclera)
    img = _paint(img, sclera, np.minimum(p["skin"] + 55.0, 250.0))
    return _paint(img, np.maximum(outline * 0.8, iris), p["ink"])


def _draw_brows(img: np.ndarray, u: np.ndarray, v: np.ndarray, s: np.ndarray, p: Params) -> np.ndarray:
    """Brows as thick segments; inner/outer heights give the V (angry) or the inverted V (sad)."""
    eye_y = -4.0
    # One brow (side chosen per sample) is lowered: disgust's asymmetry.
    lowered = np.where((u < 0) == (p["asym_side"] > 0), p["brow_asym"], 0.0)
    y_in = eye_y - p["brow_in"] + lowered
    y_out = eye_y - p["brow_out"] + lowered
    d = _segment_dist(np.abs(u), v, 2.2, y_in, 9.8, y_out) - 1.1
    return _paint(img, _coverage(d * s), p["ink"])


def _draw_nose(img: np.ndarray, u: np.ndarray, v: np.ndarray, s: np.ndarray, p: Params) -> np.ndarray:
    """A faint nose, plus bridge wrinkles whose darkness is mainly a disgust cue."""
    au = np.abs(u)
    nose = _coverage((_segment_dist(au, v, 1.6, 4.2, 0.4, 0.0) - 0.4) * s) * 0.45
    img = _paint(img, nose, p["ink"])
    wrinkle = np.minimum(_segment_dist(au, v, 0.8, -1.2, 3.6, 0.6), _segment_dist(au, v, 0.8, 0.6, 3.2, 2.2))
    return _paint(img, _coverage((wrinkle - 0.4) * s) * np.clip(p["wrinkle"], 0.0, 1.0), p["ink"])


def _draw_mouth(img: np.ndarray, u: np.ndarray, v: np.ndarray, s: np.ndarray, p: Params) -> np.ndarray:
    """Mouth: a curved centre line (smile/frown/tilt) with an opening whose profile sets O vs stretched."""
    w = np.maximum(p["mouth_w"], 2.0)
    x = np.minimum(np.maximum(u / w, -1.0), 1.0)
    # Corners lift by mouth_curve; disgust raises one corner (side chosen per sample).
    centre = p["mouth_y"] - p["mouth_curve"] * x * x - p["mouth_tilt"] * p["asym_side"] * x
    # Blend a lens profile (stretched mouth) with an ellipse profile (round O) instead of a
    # per-pixel power, which is the slowest operation here.
    lens = 1.0 - x * x
    profile = lens + np.clip(p["mouth_round"], 0.0, 1.0) * (np.sqrt(lens) - lens)
    opening = np.maximum(p["mouth_open"], 0.0) * profile
    # Vertical distance is a cheap stand-in for true distance; fine for these gentle curves.
    d = np.maximum(np.abs(v - centre) - opening - 0.75, np.abs(u) - w)
    return _paint(img, _coverage(d * s), p["ink"])


def _lighting(img: np.ndarray, xs: np.ndarray, ys: np.ndarray, p: Params, noise: np.ndarray) -> np.ndarray:
    """Brightness/contrast, a linear illumination gradient and Gaussian pixel noise."""
    grad = (xs * np.cos(p["light_angle"]) + ys * np.sin(p["light_angle"])) / (IMAGE_SIZE / 2)
    img = (img - 128.0) * p["contrast"] + 128.0 + p["brightness"] + p["light_strength"] * grad
    return img + noise * p["noise_sd"]


def _sample_params(labels: np.ndarray, rng: np.random.Generator) -> Params:
    """Per-sample pose, appearance and expression parameters (float32, shape (N,))."""
    n = len(labels)
    table = np.array([_PARAMS[c] for c in CLASSES], dtype=np.float64)
    neutral = table[CLASSES.index("neutral")]
    # Expression intensity: weak expressions drift towards neutral, giving FER-like confusions.
    intensity = rng.uniform(0.35, 1.1, size=n)
    expr = neutral + intensity[:, None] * (table[labels] - neutral)
    expr = expr + rng.standard_normal((n, len(_NAMES))) * np.asarray(_SPREAD)
    p = {name: expr[:, i] for i, name in enumerate(_NAMES)}
    p["asym_side"] = rng.choice([-1.0, 1.0], size=n)
    p["dx"] = rng.uniform(-3.0, 3.0, size=n)
    p["dy"] = rng.uniform(-3.0, 3.0, size=n)
    p["angle"] = np.deg2rad(rng.uniform(-10.0, 10.0, size=n))
    p["scale"] = rng.uniform(1.0, 1.18, size=n)
    p["face_aspect"] = rng.uniform(0.9, 1.08, size=n)
    p["bg"] = rng.uniform(20.0, 235.0, size=n)
    p["skin"] = rng.uniform(120.0, 215.0, size=n)
    p["ink"] = p["skin"] * rng.uniform(0.12, 0.35, size=n)
    p["has_hair"] = (rng.random(n) < 0.75).astype(np.float64)
    p["hairline"] = rng.uniform(-17.5, -14.5, size=n)
    p["hair_tone"] = rng.uniform(15.0, 110.0, size=n)
    p["brightness"] = rng.uniform(-30.0, 30.0, size=n)
    p["contrast"] = rng.uniform(0.7, 1.25, size=n)
    p["light_angle"] = rng.uniform(0.0, 2 * np.pi, size=n)
    p["light_strength"] = rng.uniform(0.0, 40.0, size=n)
    p["noise_sd"] = rng.uniform(2.0, 9.0, size=n)
    return {k: v.astype(np.float32) for k, v in p.items()}


def _render(params: Params, noise: np.ndarray) -> np.ndarray:
    """Draw one chunk of faces from their parameters; returns uint8 (n,48,48)."""
    p = {k: v[:, None, None] for k, v in params.items()}
    grid = np.arange(IMAGE_SIZE, dtype=np.float32) - (IMAGE_SIZE - 1) / 2
    ys, xs = grid[None, :, None], grid[None, None, :]
    # Face-local coordinates: undo the per-sample shift, rotation and scale (face centre sits
    # half a pixel low so the chin, not the hair, touches the border when the face is large).
    x0, y0 = xs - p["dx"], ys - 0.5 - p["dy"]
    cos, sin = np.cos(p["angle"]), np.sin(p["angle"])
    s = p["scale"]
    u = (x0 * cos + y0 * sin) / s
    v = (-x0 * sin + y0 * cos) / s
    img = _draw_face(u, v, s, p)
    img = _draw_eyes(img, u, v, s, p)
    img = _draw_brows(img, u, v, s, p)
    img = _draw_nose(img, u, v, s, p)
    img = _draw_mouth(img, u, v, s, p)
    img = _lighting(img, xs, ys, p, noise)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _choose_sources(
    rng: np.random.Generator,
    labels: np.ndarray,
    original: np.ndarray,
    n_train: int,
    targets: np.ndarray,
    cross: np.ndarray,
    conflict: np.ndarray,
) -> np.ndarray:
    """For each copy an untouched original: same class (other class if conflict), from train if cross."""
    sources = np.empty(len(targets), dtype=np.int64)
    in_train = np.arange(len(labels)) < n_train
    for c in range(len(CLASSES)):
        same = labels == c
        for want_cross in (False, True):
            for want_conflict in (False, True):
                sel = np.flatnonzero((labels[targets] == c) & (cross == want_cross) & (conflict == want_conflict))
                if len(sel) == 0:
                    continue
                base = original & in_train if want_cross else original
                pool = np.flatnonzero(base & (~same if want_conflict else same))
                if len(pool) == 0:
                    # Tiny splits can lack a fitting source; any original still makes a duplicate.
                    pool = np.flatnonzero(base if base.any() else original)
                sources[sel] = pool[rng.integers(0, len(pool), size=len(sel))]
    return sources


def _duplicate(images: np.ndarray, labels: np.ndarray, n_train: int, fraction: float, rng: np.random.Generator) -> None:
    """Overwrite round(fraction*N) images, in place, with exact copies of others, as FER2013 has.

    Each copy keeps its row's label and copies an image of the same class, so the label follows
    the source and the exact class counts survive; about 1 in 10 copies an image of another
    class instead, making "conflicting label" duplicate groups. About a quarter of the copies
    land in test with a train source, the leak a duplicate check must catch.
    """
    n = len(images)
    k = int(round(fraction * n))
    if k == 0:
        return
    n_cross = min(max(1, int(round(k / 4))), n - n_train)
    targets = rng.choice(np.arange(n_train, n), size=n_cross, replace=False)
    rest = rng.choice(np.setdiff1d(np.arange(n), targets), size=k - n_cross, replace=False)
    targets = np.concatenate([targets, rest])
    cross = np.arange(k) < n_cross
    conflict = np.zeros(k, dtype=bool)
    if k >= 2:
        conflict[rng.choice(k, size=max(1, int(round(k / 10))), replace=False)] = True
    # Sources are never targets, so every duplicate group has exactly one original.
    original = np.ones(n, dtype=bool)
    original[targets] = False
    sources = _choose_sources(rng, labels, original, n_train, targets, cross, conflict)
    images[targets] = images[sources]


def generate(n_train: int, n_test: int, seed: int, duplicate_fraction: float = 0.01) -> RawDataset:
    """Deterministic synthetic FER2013-like data set of cartoon faces (train rows first, then test)."""
    if n_train < 1 or n_test < 1:
        raise FerError(f"synthetic data needs n_train >= 1 and n_test >= 1, got {n_train} and {n_test}")
    if not 0.0 <= duplicate_fraction <= 0.5:
        raise FerError(f"duplicate_fraction must be in [0, 0.5], got {duplicate_fraction}")
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    labels = np.concatenate(
        [
            # Shuffle within each split so rows are not grouped by class.
            rng.permutation(np.repeat(np.arange(len(CLASSES)), allocate(n_train, FER_TRAIN_COUNTS))),
            rng.permutation(np.repeat(np.arange(len(CLASSES)), allocate(n_test, FER_TEST_COUNTS))),
        ]
    ).astype(np.int64)
    params = _sample_params(labels, rng)
    noise = rng.standard_normal((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        images[lo:hi] = _render({k: v[lo:hi] for k, v in params.items()}, noise[lo:hi])
    _duplicate(images, labels, n_train, duplicate_fraction, rng)

    split = np.array(["train"] * n_train + ["test"] * n_test)
    usage = np.array(["Training"] * n_train + [("PublicTest", "PrivateTest")[i % 2] for i in range(n_test)])
    width = max(5, len(str(max(n_train, n_test))))
    ids = np.array(
        [f"synthetic/train/{i + 1:0{width}d}" for i in range(n_train)]
        + [f"synthetic/test/{i + 1:0{width}d}" for i in range(n_test)]
    )
    return RawDataset(images=images, labels=labels, split=split, usage=usage, ids=ids)
