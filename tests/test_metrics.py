"""fer_pipeline.metrics: accuracy, macro recall/F1, per-class scores and confusion in CLASSES order."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from fer_pipeline import CLASSES
from fer_pipeline.metrics import confusion, headline, per_class_scores, summary_scores, weighted_scores

# Every class occurs in y_true; class 5 (sad) is never predicted, one angry is called disgust,
# the sad image is called surprise.
Y_TRUE = np.array([0, 0, 0, 1, 2, 3, 4, 5, 6, 6])
Y_PRED = np.array([0, 0, 1, 1, 2, 3, 4, 6, 6, 6])


def test_confusion_hand_computed():
    """Confusion rows are true classes, columns predicted, 7x7 in CLASSES order."""
    assert confusion(Y_TRUE, Y_PRED) == [
        [2, 1, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 0, 0],
        [0, 0, 0, 1, 0, 0, 0],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 2],
    ]


def test_summary_hand_computed():
    """accuracy 8/10; recalls 2/3,1,1,1,1,0,1 -> macro 17/21; F1s .8,2/3,1,1,1,0,.8 -> macro 79/105."""
    s = summary_scores(Y_TRUE, Y_PRED)
    assert set(s) == {"accuracy", "macro_recall", "macro_f1", "balanced_accuracy"}
    assert s["accuracy"] == pytest.approx(0.8)
    assert s["macro_recall"] == pytest.approx(17 / 21)
    assert s["macro_f1"] == pytest.approx(79 / 105)
    assert s["balanced_accuracy"] == pytest.approx(17 / 21)  # every class present: equals macro recall
    assert all(type(v) is float for v in s.values())


def test_per_class_hand_computed():
    """Per-class precision/recall/F1/support by class name; a never-predicted class scores 0, not NaN."""
    pc = per_class_scores(Y_TRUE, Y_PRED)
    assert list(pc) == list(CLASSES)
    expected = {  # precision, recall, f1, support
        "angry": (1.0, 2 / 3, 0.8, 3),
        "disgust": (0.5, 1.0, 2 / 3, 1),
        "fear": (1.0, 1.0, 1.0, 1),
        "happy": (1.0, 1.0, 1.0, 1),
        "neutral": (1.0, 1.0, 1.0, 1),
        "sad": (0.0, 0.0, 0.0, 1),
        "surprise": (2 / 3, 1.0, 0.8, 2),
    }
    for c, (p, r, f, n) in expected.items():
        assert pc[c]["precision"] == pytest.approx(p), c
        assert pc[c]["recall"] == pytest.approx(r), c
        assert pc[c]["f1"] == pytest.approx(f), c
        assert pc[c]["support"] == n and type(pc[c]["support"]) is int


def test_never_predicted_class_counts_as_zero_recall():
    """Predicting only the majority class: macro recall = 1/7 (one class at 1, six at 0), accuracy = its share."""
    y_true = np.array([3, 3, 3, 3, 0, 1, 2, 4, 5, 6])
    y_pred = np.full(10, 3)
    s = summary_scores(y_true, y_pred)
    assert s["accuracy"] == pytest.approx(0.4)
    assert s["macro_recall"] == pytest.approx(1 / 7)
    assert s["macro_f1"] == pytest.approx((2 * 0.4 * 1 / 1.4) / 7)


def test_perfect_predictions():
    """Perfect predictions score 1 everywhere and give a diagonal confusion."""
    y = np.arange(7).repeat(2)
    s = summary_scores(y, y)
    assert s == {"accuracy": 1.0, "macro_recall": 1.0, "macro_f1": 1.0, "balanced_accuracy": 1.0}
    assert confusion(y, y) == (2 * np.eye(7, dtype=int)).tolist()


def test_random_case_matches_sklearn_and_numpy():
    """On random labels the scores match scikit-learn and a direct numpy computation from the confusion matrix."""
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 7, 300)
    y_pred = np.where(rng.random(300) < 0.5, y_true, rng.integers(0, 7, 300))
    m = np.array(confusion(y_true, y_pred))
    assert m.sum() == 300
    tp = np.diag(m).astype(float)
    recall = tp / m.sum(axis=1)
    precision = np.divide(tp, m.sum(axis=0), out=np.zeros(7), where=m.sum(axis=0) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(7), where=(precision + recall) > 0)
    s = summary_scores(y_true, y_pred)
    assert s["accuracy"] == pytest.approx(tp.sum() / 300)
    assert s["macro_recall"] == pytest.approx(recall.mean())
    assert s["macro_f1"] == pytest.approx(f1.mean())
    assert s["macro_recall"] == pytest.approx(skm.recall_score(y_true, y_pred, average="macro"))
    assert s["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert s["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
    pc = per_class_scores(y_true, y_pred)
    for i, c in enumerate(CLASSES):
        assert pc[c]["recall"] == pytest.approx(recall[i])
        assert pc[c]["precision"] == pytest.approx(precision[i])
        assert pc[c]["support"] == int(np.sum(y_true == i))
    np.testing.assert_array_equal(m, skm.confusion_matrix(y_true, y_pred))



@pytest.mark.parametrize("seed", range(5))
def test_absent_classes_match_sklearn(seed):
    """With classes missing from y_true and from y_pred, every score equals scikit-learn's with all 7 labels and
    zero_division=0 (macro averages over all 7 classes; balanced accuracy over the classes present)."""
    rng = np.random.default_rng(seed)
    y_true = rng.choice([0, 2, 3, 6], 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.choice([0, 1, 3], 200))
    labels = list(range(len(CLASSES)))
    s = summary_scores(y_true, y_pred)
    assert s["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-12)
    assert s["macro_recall"] == pytest.approx(skm.recall_score(y_true, y_pred, labels=labels, average="macro", zero_division=0), abs=1e-12)
    assert s["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0), abs=1e-12)
    assert s["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred), abs=1e-12)
    p, r, f, sup = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    pc = per_class_scores(y_true, y_pred)
    for i, c in enumerate(CLASSES):
        assert (pc[c]["precision"], pc[c]["recall"], pc[c]["f1"], pc[c]["support"]) == pytest.approx((p[i], r[i], f[i], sup[i]))


@pytest.mark.parametrize("seed", range(3))
def test_weighted_scores_equal_sklearn_sample_weight(seed):
    """Per-image weights (a bootstrap resample's draw counts, float32 as the bootstrap uses them) act as
    scikit-learn sample weights with all 7 labels and zero_division=0, classes missing from y_true included."""
    rng = np.random.default_rng(seed)
    y_true = rng.choice([0, 2, 3, 6], 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.choice([0, 1, 3], 200))
    w = rng.integers(0, 3, (4, 200)).astype(np.float32)
    labels = list(range(len(CLASSES)))
    s = weighted_scores(y_true, y_pred, w)
    for b in range(4):
        kw = {"labels": labels, "average": "macro", "zero_division": 0, "sample_weight": w[b]}
        assert s["macro_recall"][b] == pytest.approx(skm.recall_score(y_true, y_pred, **kw), abs=1e-6)
        assert s["macro_f1"][b] == pytest.approx(skm.f1_score(y_true, y_pred, **kw), abs=1e-6)
        assert s["accuracy"][b] == pytest.approx(skm.accuracy_score(y_true, y_pred, sample_weight=w[b]), abs=1e-6)


def test_plain_scores_are_weights_of_one():
    """summary_scores is weighted_scores with every weight 1, to the bit; on crafted data with two of 7 classes
    present the macro scores still average over 7: recalls 1/2 and 1 -> 1.5/7, F1s 2/3 and 0.8 -> 1.4667/7."""
    y, p = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    s = summary_scores(y, p)
    w = weighted_scores(y, p, np.ones((1, 4)))
    assert all(s[m] == float(w[m][0]) for m in w)
    assert s["macro_recall"] == pytest.approx(1.5 / 7)
    assert s["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 7)
    assert s["balanced_accuracy"] == pytest.approx(0.75)  # the recall over the classes present
    assert s["accuracy"] == pytest.approx(0.75)


def test_train_and_evaluate_stages_do_not_import_sklearn():
    """The train and evaluate stages start without scikit-learn (its import alone takes ~0.9 s of a train stage's start)."""
    import subprocess
    import sys

    from .conftest import ROOT

    code = "import sys, stages.train, stages.evaluate; print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_headline_is_the_four_first_look_scores_and_the_label():
    """The `dvc metrics show` file holds the data label, test macro recall, accuracy and macro F1, and the
    deduplicated macro recall, as flat keys: one column each, nothing else (balanced accuracy, image counts and
    per-class recall stay in the scores file), so the table fits a terminal."""
    test = summary_scores(Y_TRUE, Y_PRED) | {"images": 10}
    dedup = summary_scores(Y_TRUE[:6], Y_PRED[:6]) | {"images": 6}
    got = headline("SYNTHETIC DATA (not FER2013)", test, dedup)
    assert list(got) == ["data", "macro_recall", "accuracy", "macro_f1", "dedup_macro_recall"]
    assert got["data"] == "SYNTHETIC DATA (not FER2013)"
    assert (got["macro_recall"], got["accuracy"], got["dedup_macro_recall"]) == (
        test["macro_recall"], test["accuracy"], dedup["macro_recall"])
