"""The study stage's work: one study variant's runs, every seed trained then evaluated in one process (or, for a
factorial point that is an existing run or past the design, no run and a skipped.json saying why)."""

from __future__ import annotations

from pathlib import Path

from fer_pipeline import paths
from fer_pipeline.analysis.variants import run_name
from fer_pipeline.data.tensors import load_split_tensors
from fer_pipeline.io import write_json
from fer_pipeline.params import EvaluateParams, ModelParams, TrainParams
from fer_pipeline.training.evaluate import evaluate_run
from fer_pipeline.training.runs import train_run


def study_runs(variant: str, seeds: tuple[int, ...], runs: list[tuple[ModelParams, TrainParams]], device: str,
               threads: int, how: EvaluateParams, skipped: str = "") -> None:
    """Train (with `threads` torch CPU threads) then evaluate (on `device`, as `how` says) each seed's run of
    `variant`, the split loaded once for all; with no runs, writes skipped.json saying why (`skipped`)."""
    if not runs:
        skip(variant, skipped)
        print(f"study {variant}: nothing to train: {skipped}")
        return
    data = load_split_tensors(("train", "valid", "test"))  # once for every seed: no run changes it
    for seed, (mp, tp) in zip(seeds, runs, strict=True):
        run = run_name(variant, seed)
        train_run(run, mp, tp, device, threads, data)
        evaluate_run(run, device, how, data)


def skip(variant: str, reason: str) -> None:
    """The study stage's three output folders with only skipped.json, saying why nothing was trained."""
    for folder in (paths.model_file(variant).parent, paths.live_dir(variant), paths.predictions_file(variant).parent):
        write_json(Path(folder) / "skipped.json", {"variant": variant, "skipped": reason})
