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
DESIGN = Path("data/design/design.json")  # the factorial's fit on validation and the integrated model it picks
STATS = Path("data/stats/stats.json")
REPLICATION = Path("data/replicate/replication.json")  # the significant comparisons retrained at fresh seeds
STUDY_HEADLINE = Path("metrics/study/integrated.json")  # the stats stage's `dvc metrics show` file: the integrated model
STUDY_PLOT = Path("plots/study/variants.csv")  # the stats stage's per-variant macro recall, for `dvc plots`
REPORTS = Path("reports")
STUDY_REPORT = REPORTS / "study.md"  # the report stage's Markdown; its figures lie beside it
RELEASE = Path("data/release/model.json")  # the model fer-predict and fer-export use by default
MODEL_CARD = REPORTS / "model-card.md"

# Where runs are kept: each run (a run name such as baseline or study/base/s0) has one folder under each.
TRAIN = Path("data/train")
TRAIN_LOGS = Path("metrics/train")
EVALUATE = Path("data/evaluate")
EVALUATE_METRICS = Path("metrics/evaluate")
PLOTS = Path("plots")

# The first part of a run name that groups runs (variants.Variant.path): the recipe's run, the study's axis
# variants, the factorial's own points and the replication's runs (never release candidates: what they retrain
# was read from test verdicts).
RECIPE_RUN, STUDY_RUNS, FACTORIAL_RUNS, REPLICATE_RUNS = "cnn", "study", "factorial", "replicate"


def model_file(variant: str) -> Path:
    """The best-valid-loss checkpoint of a variant."""
    return TRAIN / variant / "model.pt"


def run_file(variant: str) -> Path:
    """Audit record of a training run: wall time, device, threads, library versions."""
    return TRAIN / variant / "run.json"


def live_dir(variant: str) -> Path:
    """DVCLive folder of a variant's per-epoch training log."""
    return TRAIN_LOGS / variant


LIVE_SUMMARY = "metrics.json"  # DVCLive's summary in a live_dir: the kept epoch's train and valid scores


def live_summary(variant: str) -> Path:
    """DVCLive's summary of a variant's training (LIVE_SUMMARY)."""
    return live_dir(variant) / LIVE_SUMMARY


def eval_file(variant: str) -> Path:
    """Test scores of a run: all and deduplicated test images, recall per class. Not a DVC metric: `dvc metrics
    show` prints one column per key, so the metric is headline_file's few keys."""
    return EVALUATE / variant / "scores.json"


def headline_file(variant: str) -> Path:
    """The `dvc metrics show` file of a run the evaluate stage evaluates (the baseline, the recipe): its headline
    scores (metrics.headline), so the table fits a terminal."""
    return EVALUATE_METRICS / f"{variant}.json"


def predictions_file(variant: str) -> Path:
    """Per-image test predictions of a variant."""
    return EVALUATE / variant / "predictions.csv"


def report_file(variant: str) -> Path:
    """Per-class scores and confusion matrix of a variant."""
    return EVALUATE / variant / "report.json"


def plot_dir(variant: str) -> Path:
    """Figures of one variant."""
    return PLOTS / variant
