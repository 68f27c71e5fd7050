"""split: split.* -> data/split/indices.npz (train, valid, test row indices)."""

from fer_pipeline import cli
from fer_pipeline.data.split import write_split
from fer_pipeline.params import ParamsFile, SplitParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> SplitParams:
    return pf.section(SplitParams, "split")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    sp = read_params(args, ParamsFile(args.params))
    print(write_split(sp.valid_fraction, sp.seed))


if __name__ == "__main__":
    cli.run(main)
