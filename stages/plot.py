"""plot: one run's log and predictions -> plots/<run>/{curves,confusion,grid}.png."""

from fer_pipeline import cli
from fer_pipeline.params import ParamsFile, PlotParams
from fer_pipeline.training.plot import plot_run


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv)


def read_params(args, pf: ParamsFile) -> PlotParams:
    return pf.section(PlotParams, "plot")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    print(plot_run(args.variant, read_params(args, ParamsFile(args.params)).grid_images))


if __name__ == "__main__":
    cli.run(main)
