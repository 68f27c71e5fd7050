"""fer_pipeline.training.distributed: DistributedDataParallel over 2 CPU processes (torchrun, gloo) matches one process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch
import yaml

from fer_pipeline import paths
from fer_pipeline.cli import stage_command
from fer_pipeline.training.checkpoint import load_checkpoint
from fer_pipeline.training.distributed import SINGLE, DistContext, all_sum, gather, shard

from .conftest import ROOT


def test_shards_cover_the_global_batch_once():
    """The ranks' shards of a global batch are disjoint and together are the whole batch."""
    idx = torch.arange(11)
    parts = [shard(idx, DistContext(rank=r, world=3)) for r in range(3)]
    assert sorted(torch.cat(parts).tolist()) == list(range(11))
    assert parts[0].tolist() == [0, 3, 6, 9]


def test_single_process_helpers_are_identity():
    """Without a process group, shard/gather/all_sum change nothing (the CPU path stays as it was)."""
    t = torch.arange(5)
    assert torch.equal(shard(t, SINGLE), t) and torch.equal(gather(t, SINGLE), t)
    assert all_sum(2.5, SINGLE) == 2.5


def run(cwd: Path, stage: str, *args: str) -> None:
    """Run a stage in cwd as dvc.yaml does; fail with its output if it fails."""
    cmd, env = stage_command(stage, *args, code_root=str(ROOT))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_two_process_ddp_matches_one_process(tmp_path: Path) -> None:
    """runtime.processes=2 (torchrun, gloo) gives the single-process run's epochs, and valid loss within 1e-5
    relative and weights within 1e-3: same global batch, only float summation order differs."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"].update(source="synthetic")
    params["data"]["synthetic"].update(train_size=1000, test_size=200)
    params["model"]["hidden"] = [32]
    params["train"].update(max_epochs=3)
    params["runtime"]["threads"] = 1
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    for stage in ("fetch", "split", "preprocess"):
        run(tmp_path, stage)
    run(tmp_path, "train", "--variant", "one")
    run(tmp_path, "train", "--variant", "two", "--set", "runtime.processes=2")

    one, two = (json.loads((tmp_path / paths.live_summary(v)).read_text()) for v in ("one", "two"))
    assert (one["best_epoch"], one["epochs_trained"], one["steps"]) == (two["best_epoch"], two["epochs_trained"], two["steps"])
    assert two["valid"]["loss"] == pytest.approx(one["valid"]["loss"], rel=1e-5)
    assert two["valid"]["accuracy"] == one["valid"]["accuracy"]
    w1, w2 = (load_checkpoint(tmp_path / paths.model_file(v))["model"] for v in ("one", "two"))
    assert w1.keys() == w2.keys()  # rank 0 saved the plain model, no "module." prefix
    assert max((w1[k] - w2[k]).abs().max().item() for k in w1) < 1e-3
    assert json.loads((tmp_path / paths.run_file("two")).read_text())["processes"] == 2
