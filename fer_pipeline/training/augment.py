"""Batch augmentation on in-memory tensors: random horizontal flips and small shifts, no per-image Python."""

from __future__ import annotations

import torch
from torch.nn import functional as F

SHIFT = 4  # pixels: about a tenth of the 48-pixel face, as common FER2013 recipes use


def flip_shift(x: torch.Tensor, generator: torch.Generator, shift: int = SHIFT) -> torch.Tensor:
    """Flip each image left-right with probability 1/2 and move it by up to `shift` pixels (edges replicated)."""
    n, c, h, w = x.shape
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.where(flip.to(x.device)[:, None, None, None], x.flip(3), x)
    if shift == 0:
        return out
    padded = F.pad(out, (shift, shift, shift, shift), mode="replicate")
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=generator).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # n,1,h,1
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # n,1,1,w
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows, cols]


def augment_batch(x: torch.Tensor, mode: str, generator: torch.Generator) -> torch.Tensor:
    """The augmentation named by train.augment applied to one batch (`none` returns x unchanged)."""
    return flip_shift(x, generator) if mode == "flip_shift" else x
