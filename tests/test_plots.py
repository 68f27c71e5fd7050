"""fer_pipeline.plots: every figure has a title carrying the data label, labelled axes with units, legends, class names."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer_pipeline import CLASSES, SYNTHETIC_BANNER
from fer_pipeline.plots import confusion_figure, learning_curves, prediction_grid, save_figure


def title_of(fig) -> str:
    """The figure's suptitle, or else its first axes' title."""
    return fig._suptitle.get_text() if fig._suptitle is not None else fig.axes[0].get_title()


def test_learning_curves_twin_axes_labels_and_legend():
    """Loss and accuracy share the epoch axis on twin y axes, both labelled with units; one legend names all four lines."""
    h = pd.DataFrame({"epoch": [1, 2], "train/loss": [2.0, 1.5], "valid/loss": [2.1, 1.7],
                      "train/accuracy": [0.2, 0.3], "valid/accuracy": [0.2, 0.25]})
    fig = learning_curves(h, f"baseline [{SYNTHETIC_BANNER}]")
    loss_ax, acc_ax = fig.axes
    assert SYNTHETIC_BANNER in title_of(fig)
    assert loss_ax.get_xlabel() == "epoch" and "loss" in loss_ax.get_ylabel() and "fraction" in acc_ax.get_ylabel()
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train loss", "valid loss", "train accuracy", "valid accuracy"]


def test_confusion_figure_names_classes_and_keeps_title_visible(tmp_path):
    """The confusion matrix labels both axes with the 7 class names and puts the title above the colorbar."""
    fig = confusion_figure(np.eye(7, dtype=int) * 5, f"v [{SYNTHETIC_BANNER}]")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASSES)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASSES)
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert SYNTHETIC_BANNER in fig._suptitle.get_text()
    assert fig.axes[1].get_ylabel() == "fraction of true class"  # the colorbar says what its colours mean
    save_figure(fig, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_prediction_grid_captions_true_and_predicted():
    """Each grid cell is captioned with the true and predicted class; wrong ones in red; the title says the data."""
    imgs = np.zeros((3, 48, 48), np.uint8)
    fig = prediction_grid(imgs, ["happy", "sad", "fear"], ["happy", "angry", "fear"], f"grid [{SYNTHETIC_BANNER}]")
    captions = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert captions == ["true: happy\npred: happy", "true: sad\npred: angry", "true: fear\npred: fear"]
    wrong = [ax for ax in fig.axes if ax.get_title().startswith("true: sad")][0]
    assert wrong.title.get_color() == "red"
    assert SYNTHETIC_BANNER in fig._suptitle.get_text()
