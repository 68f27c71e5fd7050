"""fer_pipeline.stats: the stats stage summarizes each variant over its seeds and compares each axis's variants."""

from __future__ import annotations

import numpy as np

from fer_pipeline.params import StudyParams
from fer_pipeline.stats import axis_metrics, study_stats
from fer_pipeline.variants import study_variants


def tiny_study() -> dict:
    """Two activations, one value on every other axis, one depth, two seeds."""
    return study_variants(StudyParams(seeds=(0, 1), activations=("relu", "tanh"), batch_sizes=(32,), optimizers=("adam",),
                                      architectures=("mlp1",), imbalances=("none",), depths=(2,),
                                      depth_activations=("relu",), bootstrap=100))


def test_better_variant_is_the_axis_best_and_differences_are_paired():
    """On crafted predictions where relu is right on 90% of images and tanh on 50%, relu is the activation
    axis's best, tanh's paired difference to it is about -0.4 and significant, and the metrics table has both."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 2000)

    def runs(right: float) -> list:
        return [(y, np.where(rng.random(len(y)) < right, y, (y + 1) % 7)) for _ in range(2)]

    variants = tiny_study()
    data = {v.name: runs(0.5) for vs in variants.values() for v in vs}
    data["activation-relu"] = runs(0.9)
    stats = study_stats(variants, data, 200)
    axis = stats["axes"]["activation"]
    assert axis["best"] == "activation-relu"
    d = axis["versus_best"]["activation-tanh"]
    assert abs(d["difference"] + 0.4) < 0.05 and d["significant"]
    assert stats["variants"]["activation-relu"]["macro_recall"]["per_seed"][0] > 0.85
    table = axis_metrics(stats, variants)["activation"]
    assert table["activation-relu"] > table["activation-tanh"]
