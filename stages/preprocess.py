"""preprocess: preprocess.* -> data/preprocess/{images.npy, labels.npy, stats.json}."""

import numpy as np

from fer_pipeline import cli, paths
from fer_pipeline.dataset import load_dataset
from fer_pipeline.io import atomic_path, write_json
from fer_pipeline.preprocess import normalize


def main() -> None:
    params = cli.stage_params(cli.stage_args(__doc__))
    ds = load_dataset(paths.DATASET)
    x, stats = normalize(ds.images, ds.mask("train"), params.preprocess.normalize)
    for path, arr in ((paths.IMAGES, x), (paths.LABELS, ds.labels)):
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, arr)
    write_json(paths.STATS, {"normalize": params.preprocess.normalize, **stats})
    print(f"preprocess: {params.preprocess.normalize}, mean {stats['mean']:.4f}, std {stats['std']:.4f}")


if __name__ == "__main__":
    cli.run(main)
