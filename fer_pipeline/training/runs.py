"""One training run: fit the model its params describe, then write its checkpoint, run record and DVCLive log
(data/train/<run>/{model.pt, run.json}, metrics/train/<run>/)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from dvclive import Live

from fer_pipeline import paths
from fer_pipeline.data.dataset import data_label
from fer_pipeline.data.tensors import load_split_tensors
from fer_pipeline.io import read_json, write_json
from fer_pipeline.params import ModelParams, TrainParams, to_dict
from fer_pipeline.training.checkpoint import save_checkpoint
from fer_pipeline.training.distributed import DistContext, close, init_from_env
from fer_pipeline.training.models import build_model
from fer_pipeline.training.provenance import run_record
from fer_pipeline.training.seed import seed_everything
from fer_pipeline.training.train import FitResult, fit, resolve_device


def choice_settings(choice: str | Path | None) -> dict[str, Any] | None:
    """The settings of a choice.json (choose's or design's) that a run starts from; None without one."""
    return read_json(choice)["settings"] if choice else None


def train_run(run: str, mp: ModelParams, tp: TrainParams, device: str, threads: int,
              data: dict[str, torch.Tensor] | None = None) -> FitResult:
    """Train run `run` with these params on `device` ("auto" or a torch device name) with `threads` torch threads
    (0: torch's default), in this process or as one rank under torchrun; rank 0 writes its checkpoint, run record
    and DVCLive log. `data` is the split's tensors when the caller already holds them (the study stage loads them
    once for all its seeds; fit never changes them)."""
    generator = seed_everything(tp.seed, threads)
    where = resolve_device(device)
    ctx = init_from_env(where)
    label = data_label()
    start = time.perf_counter()
    data = data if data is not None else load_split_tensors(("train", "valid"))
    result = fit_logged(build_model(mp), data, tp, generator, where, ctx, run, label)
    close(ctx)
    if not ctx.main:
        return result  # rank 0 alone writes outputs
    wall = time.perf_counter() - start
    best = result.best_state
    # How inputs were scaled (mode, mean, std, as preprocess wrote it) travels with the model: predicting needs it.
    normalization = read_json(paths.NORMALIZATION)
    save_checkpoint(paths.model_file(run), best["model"], best["optimizer"], best["scheduler"], result.best_epoch,
                    {"variant": run, "model": to_dict(mp), "train": to_dict(tp), "preprocess": normalization})
    write_json(paths.run_file(run), {"variant": run, "wall_time_s": round(wall, 2), "epochs_trained": result.epochs_run,
                                     "stop_reason": result.stop_reason, "processes": ctx.world, "model": to_dict(mp),
                                     "train": to_dict(tp), **run_record(where)})
    print(f"train {run} [{label}]: best epoch {result.best_epoch}/{result.epochs_run}, "
          f"valid acc {result.best_valid['accuracy']:.4f}, macro recall {result.best_valid['macro_recall']:.4f}, "
          f"{wall:.1f}s, stopped by {result.stop_reason}")
    return result


def fit_logged(model: torch.nn.Module, data: dict[str, torch.Tensor], tp: TrainParams, generator: torch.Generator,
               device: torch.device, ctx: DistContext, run: str, label: str) -> FitResult:
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
