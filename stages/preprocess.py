"""preprocess: preprocess.* -> data/preprocess/{images.npy, labels.npy, normalization.json}."""

import numpy as np

from fer_pipeline import cli, paths
from fer_pipeline.dataset import load_dataset
from fer_pipeline.io import atomic_path, write_json
from fer_pipeline.params import ParamsFile, PreprocessParams
from fer_pipeline.preprocess import normalize


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> PreprocessParams:
    return pf.section(PreprocessParams, "preprocess")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    mode = read_params(args, ParamsFile(args.params)).normalize
    ds = load_dataset(paths.DATASET)
    x, stats = normalize(ds.images, ds.mask("train"), mode)
    for path, arr in ((paths.IMAGES, x), (paths.LABELS, ds.labels)):
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, arr)
    write_json(paths.NORMALIZATION, {"normalize": mode, **stats})
    print(f"preprocess: {mode}, mean {stats['mean']:.4f}, std {stats['std']:.4f}")


if __name__ == "__main__":
    cli.run(main)
