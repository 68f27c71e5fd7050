"""Where a training step's time goes: torch.profiler over the pipeline's own train_one_epoch.

    python bench/profile_steps.py                  # MLP baseline at batch 32 and the cnn recipe, on the real split
    python bench/profile_steps.py --steps 100 --rows 12

Needs data/preprocess and data/split (run `dvc repro data/dvc.yaml` first). Prints, per model, ms per
step and the operators with the most self CPU time, so optimisations start from a measurement.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from fer_pipeline.data.tensors import load_split_tensors
from fer_pipeline.params import load_params
from fer_pipeline.training.models import build_model
from fer_pipeline.training.train import BatchSource, make_criterion, make_optimizer, train_one_epoch

ROOT = Path(__file__).resolve().parents[1]


def profile_steps(start: str, steps: int, rows: int) -> None:
    """Time and profile `steps` training steps of the model/train pair in section `start` ('' = model/train)."""
    p = load_params(ROOT / "params.yaml", start=start)
    data = load_split_tensors(("train",))
    x, y = data["x_train"], data["y_train"]
    torch.manual_seed(0)
    model = build_model(p.model)
    opt = make_optimizer(model, p.train)
    cpu = torch.device("cpu")
    batches = BatchSource(x, y, p.train.batch_size, torch.Generator().manual_seed(0), augment=p.train.augment)
    criterion = make_criterion(None, p.train.label_smoothing, cpu)

    def run(n: int) -> None:
        train_one_epoch(model, criterion, opt, batches.epoch(n), cpu)

    run(5)  # warm-up
    t = time.perf_counter()
    run(steps)
    ms = (time.perf_counter() - t) / steps * 1000
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run(steps)
    name = start or "baseline"
    print(f"\n== {name}: {p.model.family} {p.model.hidden if p.model.family == 'mlp' else p.model.channels}, "
          f"batch {p.train.batch_size}, {p.train.optimizer}, augment {p.train.augment}: {ms:.2f} ms/step "
          f"({torch.get_num_threads()} threads)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200, help="steps per model (the cnn recipe runs a quarter of them)")
    ap.add_argument("--rows", type=int, default=15, help="operators listed per model")
    args = ap.parse_args()
    profile_steps("", args.steps, args.rows)
    profile_steps("cnn", max(args.steps // 4, 5), args.rows)


if __name__ == "__main__":
    main()
