"""split: split.* -> data/split/indices.npz (train, valid, test row indices)."""

import numpy as np

from fer_pipeline import cli, paths
from fer_pipeline.data.dataset import load_dataset
from fer_pipeline.data.split import train_valid_split
from fer_pipeline.io import atomic_path
from fer_pipeline.params import ParamsFile, SplitParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> SplitParams:
    return pf.section(SplitParams, "split")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    sp = read_params(args, ParamsFile(args.params))
    ds = load_dataset(paths.DATASET)
    group = np.load(paths.DUPLICATES)["group"]
    train, valid = train_valid_split(ds.labels, group, ds.mask("train"), sp.valid_fraction, sp.seed)
    test = np.flatnonzero(ds.mask("test"))
    with atomic_path(paths.SPLIT) as tmp, open(tmp, "wb") as f:
        np.savez(f, train=train, valid=valid, test=test)
    print(f"split: {len(train)} train, {len(valid)} valid, {len(test)} test (untouched until evaluate)")


if __name__ == "__main__":
    cli.run(main)
