"""Where every stage writes: one folder per stage, named like the stage (see dvc.yaml)."""

from __future__ import annotations

from pathlib import Path

FETCH = Path("data/fetch")
DATASET = FETCH / "dataset.npz"
DUPLICATES = FETCH / "duplicates.npz"
MANIFEST = FETCH / "manifest.json"

PREPROCESS = Path("data/preprocess")
NORMALIZATION = PREPROCESS / "normalization.json"  # how stages scale DATASET's uint8 images (mean/std for standardize)

SPLIT = Path("data/split/indices.npz")

CHOICE = Path("data/choose/choice.json")
DESIGN = Path("data/design/design.json")  # the integrated model's settings, from the carry-over round
STATS = Path("data/stats/stats.json")
REPORTS = Path("reports")
RELEASE = Path("data/release/model.json")  # the model fer-predict and fer-export use by default
MODEL_CARD = REPORTS / "model-card.md"


def model_file(variant: str) -> Path:
    """The best-valid-loss checkpoint of a variant."""
    return Path("data/train") / variant / "model.pt"


def run_file(variant: str) -> Path:
    """Audit record of a training run: wall time, device, threads, library versions."""
    return Path("data/train") / variant / "run.json"


def live_dir(variant: str) -> Path:
    """DVCLive folder of a variant's per-epoch training log."""
    return Path("metrics/train") / variant


def eval_file(variant: str) -> Path:
    """Test metrics of a variant."""
    return Path("metrics/evaluate") / f"{variant}.json"


def predictions_file(variant: str) -> Path:
    """Per-image test predictions of a variant."""
    return Path("data/evaluate") / variant / "predictions.csv"


def report_file(variant: str) -> Path:
    """Per-class scores and confusion matrix of a variant."""
    return Path("data/evaluate") / variant / "report.json"


def plot_dir(variant: str) -> Path:
    """Figures of one variant."""
    return Path("plots") / variant
