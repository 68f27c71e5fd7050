"""preprocess: preprocess.*, the split's train rows -> data/preprocess/normalization.json (how stages scale fetch's
uint8 images)."""

from fer_pipeline import cli
from fer_pipeline.data.preprocess import write_normalization
from fer_pipeline.params import ParamsFile, PreprocessParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> PreprocessParams:
    return pf.section(PreprocessParams, "preprocess")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    print(write_normalization(read_params(args, ParamsFile(args.params)).normalize))


if __name__ == "__main__":
    cli.run(main)
