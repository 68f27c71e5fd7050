"""fer_pipeline.augment: flips and shifts move pixels, never invent values, and follow the generator."""

from __future__ import annotations

import torch

from fer_pipeline.augment import augment_batch, flip_shift


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


def test_shift_by_one_matches_hand_computed_window():
    """A 1-pixel shift is a window of the edge-replicated image: rows/cols move by the drawn offset."""
    x = images(1)
    g = torch.Generator().manual_seed(3)
    out = flip_shift(x, g, shift=1)
    src = x[0, 0]
    padded = torch.nn.functional.pad(src[None, None], (1, 1, 1, 1), mode="replicate")[0, 0]
    windows = [padded[dy:dy + 6, dx:dx + 6] for dy in range(3) for dx in range(3)]
    mirrored = torch.nn.functional.pad(src.flip(1)[None, None], (1, 1, 1, 1), mode="replicate")[0, 0]
    windows += [mirrored[dy:dy + 6, dx:dx + 6] for dy in range(3) for dx in range(3)]
    assert any(torch.equal(out[0, 0], w) for w in windows)


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
