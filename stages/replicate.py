"""replicate: the study's significant axis comparisons retrained at fresh seeds (study.replicate_seeds) and compared
again -> data/train/replicate/, metrics/train/replicate/, data/evaluate/replicate/ and
data/replicate/replication.json (fer_pipeline/analysis/replicate.py). Opt-in: with no replicate seeds it trains
nothing."""

from fer_pipeline import cli
from fer_pipeline.analysis.choose import study_and_presets
from fer_pipeline.analysis.replicate import replicate
from fer_pipeline.params import EvaluateParams, ParamsFile, PresetsParams, RuntimeParams, StudyParams
from fer_pipeline.training.evaluate import evaluation_params


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[StudyParams, PresetsParams, int, tuple[str, EvaluateParams]]:  # type: ignore[valid-type]
    """The study and presets (a replicated variant is composed as its study stage composes it), the torch threads
    and how to evaluate."""
    study, presets = study_and_presets(pf)
    return study, presets, pf.field(RuntimeParams, "runtime.threads"), evaluation_params(pf)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    pf = ParamsFile(args.params)
    study, presets, threads, (device, how) = read_params(args, pf)
    print(replicate(pf, study, presets, device, threads, how))


if __name__ == "__main__":
    cli.run(main)
