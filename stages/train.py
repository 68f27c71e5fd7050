"""train: <section>.model + <section>.train -> data/train/<run>/{model.pt, run.json}, metrics/train/<run>/ (DVCLive)."""

import time

from dvclive import Live

from fer_pipeline import cli, paths
from fer_pipeline.checkpoint import save_checkpoint
from fer_pipeline.dataset import data_label
from fer_pipeline.distributed import close, init_from_env, relaunch_with_torchrun, under_torchrun
from fer_pipeline.io import read_json, write_json
from fer_pipeline.models import build_model
from fer_pipeline.params import ModelParams, ParamsFile, RuntimeParams, TrainParams, parse_override, to_dict
from fer_pipeline.provenance import run_record
from fer_pipeline.seed import seed_everything
from fer_pipeline.tensors import load_split_tensors
from fer_pipeline.train import FitResult, fit, resolve_device
from fer_pipeline.variants import model_and_train


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv)


def read_choice(args) -> dict | None:
    """The settings of --choice's choice.json, applied before any --axis and --set."""
    return read_json(args.choice)["settings"] if args.choice else None


def read_params(args, pf: ParamsFile) -> tuple[ModelParams, TrainParams, RuntimeParams]:
    """What the run trains (--set model.K=V / train.K=V), and where it runs (runtime, --set runtime.K=V)."""
    runtime = {k.partition(".")[2]: v for k, v in map(parse_override, args.set) if k.startswith("runtime.")}
    sets = [text for text in args.set if not parse_override(text)[0].startswith("runtime.")]
    return (*model_and_train(pf, args.start, args.axis, read_choice(args), sets), pf.section(RuntimeParams, "runtime", runtime))


def fit_logged(model, data, tp: TrainParams, generator, device, ctx, run: str, label: str) -> FitResult:
    """fit(), logging every epoch with DVCLive on rank 0 (dvcyaml=False: dvc.yaml stays hand-written)."""
    if not ctx.main:
        return fit(model, data, tp, generator, device, ctx=ctx)
    with Live(str(paths.live_dir(run)), dvcyaml=False, save_dvc_exp=False, report=None) as live:
        def log(epoch: int, row: dict[str, float]) -> None:
            for key, value in row.items():
                live.log_metric(key, value)
            live.next_step()

        result = fit(model, data, tp, generator, device, on_epoch=log, ctx=ctx)
        # The summary is the kept (best-valid-loss) epoch, not the last one trained.
        live.summary = {"data": label, "best_epoch": result.best_epoch, "epochs_trained": result.epochs_run,
                        "stop_reason": result.stop_reason, "steps": result.steps, "valid": dict(result.best_valid)}
    return result


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    mp, tp, rt = read_params(args, ParamsFile(args.params))
    if rt.processes > 1 and not under_torchrun():
        relaunch_with_torchrun(rt.processes)  # does not return: this stage restarts under torchrun
    train(args.variant, mp, tp, rt.device, rt.threads)


def train(variant: str, mp: ModelParams, tp: TrainParams, device_name: str, threads: int, data: dict | None = None) -> None:
    """Train run `variant` with these params on `device_name` with `threads` torch CPU threads (in this process,
    or as one rank under torchrun); rank 0 writes its checkpoint, run record and DVCLive log. `data` is the split's
    tensors when the caller already holds them (the study stage loads them once for all its seeds; fit never
    changes them)."""
    generator = seed_everything(tp.seed, threads)
    device = resolve_device(device_name)
    ctx = init_from_env(device)
    label = data_label()
    start = time.perf_counter()
    data = data if data is not None else load_split_tensors(("train", "valid"))
    result = fit_logged(build_model(mp), data, tp, generator, device, ctx, variant, label)
    close(ctx)
    if not ctx.main:
        return  # rank 0 alone writes outputs
    wall = time.perf_counter() - start
    best = result.best_state
    # How inputs were scaled travels with the model (fer-predict needs it); it comes from preprocess's output.
    normalize = read_json(paths.NORMALIZATION)["normalize"]
    save_checkpoint(paths.model_file(variant), best["model"], best["optimizer"], best["scheduler"], result.best_epoch,
                    {"variant": variant, "model": to_dict(mp), "train": to_dict(tp), "preprocess": {"normalize": normalize}})
    write_json(paths.run_file(variant), {"variant": variant, "wall_time_s": round(wall, 2),
                                              "epochs_trained": result.epochs_run, "stop_reason": result.stop_reason,
                                              "processes": ctx.world, "model": to_dict(mp), "train": to_dict(tp),
                                              **run_record(device)})
    print(f"train {variant} [{label}]: best epoch {result.best_epoch}/{result.epochs_run}, "
          f"valid acc {result.best_valid['accuracy']:.4f}, macro recall {result.best_valid['macro_recall']:.4f}, "
          f"{wall:.1f}s, stopped by {result.stop_reason}")


if __name__ == "__main__":
    cli.run(main)
