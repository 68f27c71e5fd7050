"""fer_pipeline.training.augment: flips and shifts move pixels, never invent values, and follow the generator."""

from __future__ import annotations

import torch

from fer_pipeline.training.augment import augment_batch, flip_shift


def images(n: int = 8) -> torch.Tensor:
    """n distinct 1x6x6 ramps (values 0..35 plus 100*i), so every pixel's origin is identifiable."""
    return torch.stack([torch.arange(36, dtype=torch.float32).reshape(1, 6, 6) + 100 * i for i in range(n)])


def test_no_shift_is_identity_or_mirror():
    """With shift 0 each image is either unchanged or exactly its left-right mirror."""
    x = images()
    out = flip_shift(x, torch.Generator().manual_seed(0), shift=0)
    for a, b in zip(x, out, strict=True):
        assert torch.equal(a, b) or torch.equal(a.flip(2), b)
    flipped = sum(not torch.equal(a, b) for a, b in zip(x, out, strict=True))
    assert 0 < flipped < len(x)


def test_shift_keeps_shape_and_only_existing_values():
    """A shifted image has the same shape and contains only pixels of its own source image (edges replicated)."""
    x = images()
    out = flip_shift(x, torch.Generator().manual_seed(1), shift=2)
    assert out.shape == x.shape
    for i in range(len(x)):
        assert set(out[i].flatten().tolist()) <= set(x[i].flatten().tolist())


def window(src: torch.Tensor, flip: bool, dy: int, dx: int) -> torch.Tensor:
    """src (C,H,W), mirrored if flip, moved by (dy, dx): out[i, j] = src[clamp(i + dy), clamp(j + dx)] (edge replicated)."""
    src = src.flip(2) if flip else src
    _, h, w = src.shape
    rows = (torch.arange(h) + dy).clamp(0, h - 1)
    cols = (torch.arange(w) + dx).clamp(0, w - 1)
    return src[:, rows][:, :, cols]


def test_flip_shift_outcomes_are_flips_and_shifts_within_4px_drawn_uniformly():
    """Each output is its own image, mirrored with probability 1/2 and moved by (dy, dx) uniform in -4..4 with edges
    replicated; all 9 offsets of each axis occur independently, and an untouched image is a rare outcome (1/162), not the rule."""
    n, shift = 648, 4
    ramp = torch.arange(100, dtype=torch.float32).reshape(1, 10, 10)
    x = torch.stack([torch.cat([ramp, ramp + 0.5]) + 1000 * i for i in range(n)])  # 2 channels, every pixel unique
    out = flip_shift(x, torch.Generator().manual_seed(0), shift=shift)
    assert out.shape == x.shape
    offsets = range(-shift, shift + 1)
    outcomes = []
    for src, got in zip(x, out, strict=True):
        found = [(f, dy, dx) for f in (False, True) for dy in offsets for dx in offsets if torch.equal(got, window(src, f, dy, dx))]
        assert len(found) == 1, found  # exactly one (flip, dy, dx) explains it: nothing else was done to the image
        outcomes.append(found[0])
    flips = sum(f for f, _, _ in outcomes)
    assert 0.4 * n < flips < 0.6 * n  # expected n/2, sd 13
    for axis in (1, 2):
        counts = torch.bincount(torch.tensor([o[axis] + shift for o in outcomes]), minlength=2 * shift + 1)
        assert len(counts) == 2 * shift + 1 and counts.min() > 0.6 * n / 9 and counts.max() < 1.4 * n / 9  # expected 72, sd 8
    assert len({o[1:] for o in outcomes}) > 70  # dy and dx drawn independently: most of the 81 pairs occur, not just dy == dx
    untouched = sum(o == (False, 0, 0) for o in outcomes)
    assert untouched < 0.03 * n  # expected n/162 = 4


def test_same_generator_state_same_batch():
    """Augmentation is reproducible: the same seed gives the same batch, another seed a different one."""
    x = images(16)
    a = flip_shift(x, torch.Generator().manual_seed(5))
    b = flip_shift(x, torch.Generator().manual_seed(5))
    c = flip_shift(x, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_none_returns_the_batch_untouched_and_draws_nothing():
    """augment=none returns x itself and leaves the generator where it was (the permutations stay as before)."""
    x = images()
    g = torch.Generator().manual_seed(0)
    before = g.get_state()
    assert augment_batch(x, "none", g) is x
    assert torch.equal(g.get_state(), before)
