"""preprocess: preprocess.*, the split's train rows -> data/preprocess/normalization.json (how stages scale fetch's
uint8 images)."""

import numpy as np

from fer_pipeline import cli, paths
from fer_pipeline.data.dataset import load_dataset
from fer_pipeline.data.preprocess import normalization_stats
from fer_pipeline.io import write_json
from fer_pipeline.params import ParamsFile, PreprocessParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> PreprocessParams:
    return pf.section(PreprocessParams, "preprocess")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    mode = read_params(args, ParamsFile(args.params)).normalize
    ds = load_dataset(paths.DATASET)
    with np.load(paths.SPLIT) as index:
        train = index["train"]
    stats = normalization_stats(ds.images, train, mode)
    write_json(paths.NORMALIZATION, {"normalize": mode, **stats})
    print(f"preprocess: {mode}, mean {stats['mean']:.4f}, std {stats['std']:.4f}")


if __name__ == "__main__":
    cli.run(main)
