"""fer_pipeline.serving.release: the released model is the best run on validation among the recipe, study and factorial
runs (never chosen on test, never the baseline), and its model card reports the pipeline's own numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fer_pipeline import CLASSES, FerError, paths
from fer_pipeline.params import TTAS
from fer_pipeline.serving.release import TTA_SENTENCES, candidate_recalls, choose_release, model_card, release_record


def write_summary(root: Path, run: str, valid_recall: float) -> None:
    """A DVCLive summary (paths.live_summary) with this validation macro recall."""
    path = root / paths.live_summary(run)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"valid": {"macro_recall": valid_recall}}))


def test_release_is_best_on_validation_among_recipe_and_study(tmp_path):
    """Of cnn, study and factorial runs, the highest validation macro recall wins; the baseline (a user's free
    experiment) is no candidate even when it scores best; ties go to the first run by name."""
    for run, r in (("baseline", 0.9), ("cnn", 0.55), ("study/architecture-cnn/s1", 0.6), ("study/base/s0", 0.3),
                   ("factorial/3/s0", 0.6)):
        write_summary(tmp_path, run, r)
    recalls = candidate_recalls(tmp_path)
    assert set(recalls) == {"cnn", "study/architecture-cnn/s1", "study/base/s0", "factorial/3/s0"}
    assert choose_release(recalls) == "factorial/3/s0"  # 0.6 tie: first by name
    record = release_record(recalls, "flip")
    assert record["model"] == paths.model_file("factorial/3/s0").as_posix() and record["tta"] == "flip"
    assert "among the 4 trained runs" in record["why"] and "test was not used" in record["why"]
    with pytest.raises(FerError, match="no trained run"):
        choose_release({})


def card_inputs() -> tuple:
    """Outputs of the pipeline as the release stage reads them, with distinct numbers to find in the card."""
    counts = {c: 100 + i for i, c in enumerate(CLASSES)}
    manifest = {"data": "FER2013", "source": "archive", "sha256": "ab" * 32, "counts": {"train": counts, "test": counts},
                "duplicates": {"conflicting_label_groups": 57, "blank_images": 13, "test_images_with_train_twin": 568}}
    run = {"model": {"family": "cnn", "channels": [32, 64]}, "train": {"optimizer": "adamw", "lr": 0.002},
           "device": "cpu", "torch_threads": 2, "versions": {"torch": "2.14.1"}, "epochs_trained": 30, "wall_time_s": 1740.0,
           "stop_reason": "max_minutes", "git_commit": "0123456789", "git_dirty": False}
    metrics = {"test": {"images": 7178, "accuracy": 0.6612, "macro_recall": 0.6234, "macro_f1": 0.63},
               "test_dedup": {"images": 6610, "accuracy": 0.651, "macro_recall": 0.611, "macro_f1": 0.62}}
    per_class = {c: {"recall": 0.1 * (i + 1), "precision": 0.5, "f1": 0.4, "support": 10 + i} for i, c in enumerate(CLASSES)}
    confusion = [[i * 10 + j for j in range(len(CLASSES))] for i in range(len(CLASSES))]
    record = {"run": "cnn", "model": "data/train/cnn/model.pt", "tta": "flip", "why": "best validation macro recall (0.6100)"}
    return record, manifest, run, metrics, {"per_class": per_class, "confusion": confusion}, 0.2


def test_model_card_reports_the_numbers_it_is_given():
    """The card names the model and why, the data, the recipe, test and dedup-test accuracy and macro recall,
    per-class recall, the confusion matrix, intended use and the data's known limits, all from its inputs."""
    card = model_card(*card_inputs())
    for text in ("data/train/cnn/model.pt", "best validation macro recall (0.6100)", "tta: flip", "FER2013",
                 "family cnn, channels [32, 64]", "optimizer adamw, lr 0.002", "| all | 7,178 | 66.1% | 62.3% | 63.0% |",
                 "| 6,610 | 65.1% | 61.1% | 62.0% |", "| surprise | 70.0% |", "| angry | 0 | 1 | 2 |", "57 groups",
                 "13 images are blank", "568 test images", "## Intended use", "## Known limits", "(angry, disgust)"):
        assert text in card, text
    assert "device cpu" not in card.split("## Training recipe")[1].split("Trained on")[0]  # where it ran is not the recipe


def test_model_card_reads_the_split_and_the_tta_it_is_given():
    """The card's train/valid shares are split.valid_fraction's and its prediction sentence is the release's tta:
    80%/20% and the mirror image for the defaults, other shares and no mirror image for other values."""
    *inputs, _ = card_inputs()
    default = model_card(*inputs, 0.2)
    assert "of which 80% trained the model and 20% validated it" in default
    assert "Predictions average each face's probabilities with its mirror image's (`tta: flip`)" in default
    record, *rest = inputs
    other = model_card({**record, "tta": "none"}, *rest, 0.125)
    assert "of which 87.5% trained the model and 12.5% validated it" in other
    assert "mirror" not in other and "without test-time augmentation (`tta: none`)" in other
    assert set(TTA_SENTENCES) == set(TTAS)
