"""fer_pipeline.choose: the integrated model takes, per factor, the best mean validation score."""

from __future__ import annotations

import json

from fer_pipeline.choose import choose, valid_recalls
from fer_pipeline.variants import Variant


def test_choose_picks_best_mean_per_factor():
    """The best seed-mean wins even when another value has the single best seed; unknown axes are ignored."""
    valid = {
        "activation": {"relu": [0.30, 0.31, 0.32], "tanh": [0.40, 0.20, 0.20], "sigmoid": [0.29, 0.29, 0.29]},
        "batch_size": {"16": [0.2], "64": [0.25]},
        "depth_activation": {"3": [0.9]},
    }
    assert choose(valid) == {"activation": "relu", "batch_size": "64"}


def test_choose_tie_goes_to_first_listed():
    """Equal means: the value listed first in params wins (a stable, documented rule)."""
    assert choose({"optimizer": {"adam": [0.3], "sgd": [0.3]}}) == {"optimizer": "adam"}


def test_valid_recalls_read_each_seed(tmp_path):
    """valid_recalls reads the kept epoch's valid macro recall of every seed's run from DVCLive's metrics.json."""
    v = Variant("optimizer-sgd", "optimizer", (("optimizer", "sgd"),))
    for seed, r in ((0, 0.1), (1, 0.3)):
        d = tmp_path / "metrics/train" / v.run(seed)
        d.mkdir(parents=True)
        (d / "metrics.json").write_text(json.dumps({"valid": {"macro_recall": r}}))
    assert valid_recalls([v], (0, 1), tmp_path) == {"sgd": [0.1, 0.3]}
