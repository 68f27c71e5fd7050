"""Matplotlib figures of the study; every title carries the data label (FER2013 or SYNTHETIC)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: stages run under DVC without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from fer_pipeline import CLASSES  # noqa: E402
from fer_pipeline.io import atomic_path  # noqa: E402


def save_figure(fig: Figure, path: str | Path) -> None:
    """Save a figure as PNG atomically and free it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def learning_curves(history: pd.DataFrame, title: str) -> Figure:
    """Loss (left axis) and accuracy (right axis) per epoch, train and valid, on twin axes."""
    fig, ax_loss = plt.subplots(figsize=(7, 4.2))
    ax_acc = ax_loss.twinx()
    epoch = history["epoch"]
    lines = [
        ax_loss.plot(epoch, history["train/loss"], "o-", color="tab:blue", label="train loss")[0],
        ax_loss.plot(epoch, history["valid/loss"], "o--", color="tab:cyan", label="valid loss")[0],
        ax_acc.plot(epoch, history["train/accuracy"], "s-", color="tab:red", label="train accuracy")[0],
        ax_acc.plot(epoch, history["valid/accuracy"], "s--", color="tab:orange", label="valid accuracy")[0],
    ]
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss (per image)")
    ax_acc.set_ylabel("accuracy (fraction)")
    ax_acc.set_ylim(0, 1)
    # Below the axes: inside, it hides the curves it explains.
    ax_loss.legend(lines, [ln.get_label() for ln in lines], loc="upper center", bbox_to_anchor=(0.5, -0.15),
                   ncol=4, fontsize=8, frameon=False)
    ax_loss.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def prediction_grid(images: np.ndarray, actual: list[str], predicted: list[str], title: str) -> Figure:
    """Square grid of test images, each captioned true/predicted, wrong ones in red."""
    n = len(images)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, img, a, p in zip(axes.ravel(), images, actual, predicted, strict=False):
        ax.imshow(img, cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"true: {a}\npred: {p}", fontsize=7, color="black" if a == p else "red")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def confusion_figure(matrix: np.ndarray, title: str) -> Figure:
    """Row-normalized confusion matrix (recall on the diagonal) with class names."""
    m = np.asarray(matrix, dtype=float)
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.6, 5))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(CLASSES)):
        for j in range(len(CLASSES)):
            ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right")
    ax.set_yticks(range(len(CLASSES)), CLASSES)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(im, ax=ax, label="fraction of true class")
    fig.suptitle(title, fontsize=10)  # over the whole figure: above the axes the colorbar cut it off
    fig.tight_layout()
    return fig

