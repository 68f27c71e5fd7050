"""Training: train_one_epoch / evaluate / fit with early stopping on valid loss, best weights kept."""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from fer_pipeline import CLASSES
from fer_pipeline.augment import augment_batch
from fer_pipeline.distributed import SINGLE, DistContext, all_sum, gather, shard
from fer_pipeline.metrics import summary_scores
from fer_pipeline.params import TrainParams

EVAL_BATCH = 1024


def resolve_device(name: str) -> torch.device:
    """`auto` -> cuda if available, then mps, else cpu; an explicit name is taken as is."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def make_optimizer(model: nn.Module, tp: TrainParams) -> torch.optim.Optimizer:
    """The optimizer named by train.optimizer with train.lr / momentum / nesterov / weight_decay.

    SGD, Adam and AdamW use torch's fused kernels (one kernel per step instead of a Python loop over
    parameters; the profile of a batch-32 MLP step showed Adam's per-tensor loop as 40% of the time).
    """
    params = list(model.parameters())
    fused = params[0].device.type in ("cpu", "cuda")
    if tp.optimizer == "sgd":
        return torch.optim.SGD(params, lr=tp.lr, momentum=tp.momentum, nesterov=tp.nesterov,
                               weight_decay=tp.weight_decay, fused=fused)
    if tp.optimizer == "rmsprop":  # no fused RMSprop in torch; the multi-tensor path is the next best
        return torch.optim.RMSprop(params, lr=tp.lr, momentum=tp.momentum, weight_decay=tp.weight_decay, foreach=True)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[tp.optimizer]
    return cls(params, lr=tp.lr, weight_decay=tp.weight_decay, fused=fused)


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bfloat16 mixed precision on CUDA (no loss scaling needed); nothing elsewhere, so CPU results stay fp32."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def to_device_layout(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a batch to the device, image batches channels-last: faster convolutions on CUDA and on CPU too
    (measured on 2 CPU cores, batch 64: the recipe's nets 1.2-1.35x; bench/run.py has the row)."""
    x = x.to(device, non_blocking=True)
    if x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def make_scheduler(optimizer: torch.optim.Optimizer, tp: TrainParams) -> Any:
    """The lr scheduler named by train.scheduler (None for `none`)."""
    if tp.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=tp.max_epochs)
    if tp.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, tp.max_epochs // 3), gamma=0.1)
    if tp.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    return None


def _scores(loss_sum: float, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Mean loss plus the classification summary scores."""
    scores = summary_scores(y, pred)
    return {"loss": loss_sum / max(len(y), 1), "accuracy": scores["accuracy"],
            "macro_recall": scores["macro_recall"], "macro_f1": scores["macro_f1"]}


def epoch_order(n: int, sample_weight: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """The epoch's n sample indices: a permutation, or with sample_weight n draws with replacement in proportion to it.

    Drawn from `generator` alone, so every rank (same generator state) gets the same order.
    """
    if sample_weight is None:
        return torch.randperm(n, generator=generator)
    return torch.multinomial(sample_weight, n, replacement=True, generator=generator)


def batch_bounds(n: int, batch_size: int, world: int = 1) -> list[int]:
    """Start of each batch, then n. A last batch too small to give every rank two images joins the one before:
    batch norm cannot train on one image per channel, and a lone image would be a noisy step anyway."""
    bounds = [*range(0, n, batch_size), n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < 2 * world:
        del bounds[-2]
    return bounds


def train_one_epoch(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer,
    batch_size: int, generator: torch.Generator, device: torch.device, max_steps: int = 0, desc: str = "",
    ctx: DistContext = SINGLE, class_weight: torch.Tensor | None = None, sample_weight: torch.Tensor | None = None,
    augment: str = "none", label_smoothing: float = 0.0,
) -> tuple[dict[str, float], int]:
    """One pass over shuffled tensor batches (no DataLoader, no per-sample Python); (scores, steps).

    class_weight weights the loss per class; sample_weight draws the epoch's images with replacement
    in proportion to it (a weighted sampler) instead of a permutation. augment transforms each global
    batch before it is sharded, so every rank draws the same random numbers.
    """
    model.train()
    loss_fn = nn.CrossEntropyLoss(weight=None if class_weight is None else class_weight.to(device), reduction="sum",
                                  label_smoothing=label_smoothing)
    order = epoch_order(len(x), sample_weight, generator)
    bounds = batch_bounds(len(x), batch_size, ctx.world)
    n_batches = len(bounds) - 1
    if max_steps:
        n_batches = min(n_batches, max_steps)
    # Summed on the device and read once per epoch: a per-step .item() would wait for every step (GPU).
    loss_sum, preds, seen = torch.zeros((), device=device), [], []
    for b in tqdm(range(n_batches), desc=desc, leave=False, disable=None if ctx.main else True, mininterval=1.0):
        idx = order[bounds[b]:bounds[b + 1]]
        if augment == "none":
            mine = shard(idx, ctx)
            xb, yb = x[mine], y[mine]
        else:
            mine = shard(torch.arange(len(idx)), ctx)
            xb, yb = augment_batch(x[idx], augment, generator)[mine], y[idx][mine]
        xb, yb = to_device_layout(xb, device), yb.to(device, non_blocking=True)
        with autocast(device):
            logits = model(xb)
            loss = loss_fn(logits.float(), yb)
        optimizer.zero_grad(set_to_none=True)
        # Mean over the global batch: DDP averages the ranks' gradients, so scale each rank's sum by world.
        (loss * ctx.world / len(idx)).backward()
        optimizer.step()
        loss_sum += loss.detach()
        preds.append(logits.argmax(1))
        seen.append(yb)
    y_all, pred_all = gather(torch.cat(seen), ctx), gather(torch.cat(preds), ctx)
    return _scores(all_sum(loss_sum.item(), ctx), y_all.numpy(), pred_all.numpy()), n_batches


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, device: torch.device, tta: str = "none") -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, probabilities) for every row of x, in eval mode and large batches.

    tta="flip" averages the probabilities of each image and of its mirror image (an expression reads the same
    mirrored; training flips too); the logits are then the log of the averaged probabilities."""
    model.eval()

    def logits_of(v: torch.Tensor) -> torch.Tensor:
        with autocast(device):
            return torch.cat([model(to_device_layout(v[i:i + EVAL_BATCH], device)).float().cpu()
                              for i in range(0, len(v), EVAL_BATCH)])

    logits = logits_of(x)
    if tta == "flip":
        probs = (logits.softmax(1) + logits_of(x.flip(-1)).softmax(1)) / 2
        return probs.log(), probs
    return logits, logits.softmax(1)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> dict[str, float]:
    """Mean loss and scores of the model on (x, y)."""
    logits, _ = predict(model, x, device)
    y = y.cpu()
    loss = nn.functional.cross_entropy(logits, y, reduction="sum").item()
    return _scores(loss, y.numpy(), logits.argmax(1).numpy())


def imbalance_weights(y: torch.Tensor, mode: str, n_classes: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(class_weight, sample_weight) for train.imbalance: inverse class frequency, as loss or sampler weights."""
    if mode == "none":
        return None, None
    counts = torch.bincount(y, minlength=n_classes).double().clamp(min=1)
    per_class = (len(y) / (n_classes * counts)).float()  # 1 for a class of average size
    return (per_class, None) if mode == "class_weights" else (None, per_class[y])


@dataclass
class FitResult:
    """What fit() saw: the best epoch's valid scores, the per-epoch history and the best states."""

    best_epoch: int
    epochs_run: int
    steps: int
    best_valid: dict[str, float]
    stop_reason: str = "max_epochs"  # max_epochs | patience | max_steps | max_minutes
    history: list[dict[str, Any]] = field(default_factory=list)
    best_state: dict[str, Any] = field(default_factory=dict)


def fit(
    model: nn.Module, data: dict[str, torch.Tensor], tp: TrainParams, generator: torch.Generator,
    device: torch.device, on_epoch: Callable[[int, dict[str, float]], None] | None = None, ctx: DistContext = SINGLE,
) -> FitResult:
    """Train until max_epochs, max_steps, max_minutes or `patience` epochs without valid-loss improvement;
    load the best weights."""
    class_weight, sample_weight = imbalance_weights(data["y_train"], tp.imbalance, len(CLASSES))
    if device.type == "cuda":
        # The whole split fits in GPU memory (~0.3 GB): copy it once, from pinned memory, so that batches
        # are indexed on the GPU and no step waits for a host-to-device copy.
        data = {k: v.pin_memory().to(device, non_blocking=True) for k, v in data.items()}
    model.to(device, memory_format=torch.channels_last)  # conv weights channels-last, as the batches (to_device_layout)
    # Every rank evaluates the whole valid set with identical weights, so all take the same early-stop decision.
    net = nn.parallel.DistributedDataParallel(model) if ctx.world > 1 else model
    optimizer = make_optimizer(model, tp)
    scheduler = make_scheduler(optimizer, tp)
    best: FitResult | None = None
    since_best, steps, stop_reason = 0, 0, "max_epochs"
    history: list[dict[str, Any]] = []
    start = time.perf_counter()
    for epoch in range(1, tp.max_epochs + 1):
        epoch_start = time.perf_counter()
        left = tp.max_steps - steps if tp.max_steps else 0
        train_scores, n = train_one_epoch(net, data["x_train"], data["y_train"], optimizer, tp.batch_size,
                                          generator, device, left, desc=f"epoch {epoch}", ctx=ctx,
                                          class_weight=class_weight, sample_weight=sample_weight,
                                          augment=tp.augment, label_smoothing=tp.label_smoothing)
        steps += n
        valid_scores = evaluate(model, data["x_valid"], data["y_valid"], device)
        row = {f"train/{k}": v for k, v in train_scores.items()} | {f"valid/{k}": v for k, v in valid_scores.items()}
        if scheduler is not None:  # a constant lr would only draw a flat line
            row["lr"] = optimizer.param_groups[0]["lr"]
        history.append({"epoch": epoch, **row})
        if on_epoch is not None:
            on_epoch(epoch, row)
        if best is None or valid_scores["loss"] < best.best_valid["loss"]:
            state = {"model": copy.deepcopy(model.state_dict()), "optimizer": copy.deepcopy(optimizer.state_dict()),
                     "scheduler": copy.deepcopy(scheduler.state_dict()) if scheduler is not None else None}
            best = FitResult(epoch, epoch, steps, valid_scores, best_state=state)
            since_best = 0
        else:
            since_best += 1
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(valid_scores["loss"])
        elif scheduler is not None:
            scheduler.step()
        if since_best >= tp.patience:
            stop_reason = "patience"
        elif tp.max_steps and steps >= tp.max_steps:
            stop_reason = "max_steps"
        elif tp.max_minutes and _time_is_up(start, epoch_start, tp.max_minutes, ctx):
            stop_reason = "max_minutes"
        if stop_reason != "max_epochs":
            break
    assert best is not None
    model.load_state_dict(best.best_state["model"])
    best.epochs_run, best.steps, best.history, best.stop_reason = epoch, steps, history, stop_reason
    return best


def _time_is_up(start: float, epoch_start: float, max_minutes: float, ctx: DistContext) -> bool:
    """Whether one more epoch as long as the last would pass the budget (rank 0 decides for all ranks)."""
    now = time.perf_counter()
    late = float((now - start) + (now - epoch_start) > max_minutes * 60)
    return all_sum(late if ctx.main else 0.0, ctx) > 0
