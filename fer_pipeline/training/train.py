"""Training: batches (BatchSource), train_one_epoch, score, fit with early stopping on valid loss, best weights kept."""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from fer_pipeline import CLASSES
from fer_pipeline.metrics import summary_scores
from fer_pipeline.params import TrainParams
from fer_pipeline.training.augment import augment_batch
from fer_pipeline.training.distributed import SINGLE, DistContext, all_sum, gather, shard

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


class BatchSource:
    """The training batches, epoch after epoch: their order (a permutation, or weighted-sampler draws with
    sample_weight), their augmentation and this rank's share of each global batch of batch_size images.

    Every random number comes from `generator`: the epoch's order when the epoch starts, then each batch's
    augmentation. Each global batch is augmented before it is sharded, so every rank draws the same numbers."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, generator: torch.Generator, *,
                 sample_weight: torch.Tensor | None = None, augment: str = "none", ctx: DistContext = SINGLE) -> None:
        self.x, self.y, self.generator = x, y, generator
        self.sample_weight, self.augment, self.ctx = sample_weight, augment, ctx
        self.bounds = batch_bounds(len(x), batch_size, ctx.world)
        self.epochs = 0

    def __len__(self) -> int:
        """Batches in a full epoch."""
        return len(self.bounds) - 1

    def epoch(self, max_batches: int = 0) -> Epoch:
        """The next epoch's batches (its order drawn now), cut to max_batches when it is set."""
        self.epochs += 1
        order = epoch_order(len(self.x), self.sample_weight, self.generator)
        return Epoch(self, order, min(len(self), max_batches) if max_batches else len(self), self.epochs)

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's (x, y) of the global batch of rows `idx`, augmented."""
        if self.augment == "none":
            mine = shard(idx, self.ctx)
            return self.x[mine], self.y[mine]
        mine = shard(torch.arange(len(idx)), self.ctx)
        return augment_batch(self.x[idx], self.augment, self.generator)[mine], self.y[idx][mine]


@dataclass
class Epoch:
    """One epoch of a BatchSource: iterates (this rank's x, its y, the global batch's size)."""

    source: BatchSource
    order: torch.Tensor
    size: int  # batches
    number: int

    @property
    def ctx(self) -> DistContext:
        """The ranks the batches are sharded over."""
        return self.source.ctx

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, int]]:
        bounds = self.source.bounds
        for b in range(self.size):  # each batch drawn (and augmented) only when the loop reaches it
            idx = self.order[bounds[b]:bounds[b + 1]]
            yield *self.source.batch(idx), len(idx)


def make_criterion(class_weight: torch.Tensor | None, label_smoothing: float, device: torch.device) -> nn.Module:
    """The training loss: cross-entropy with train.imbalance's class weights and train.label_smoothing, summed over
    a batch (train_one_epoch scales it to the global batch's mean)."""
    return nn.CrossEntropyLoss(weight=None if class_weight is None else class_weight.to(device), reduction="sum",
                               label_smoothing=label_smoothing)


def train_one_epoch(model: nn.Module, criterion: nn.Module, optimizer: torch.optim.Optimizer, batches: Epoch,
                    device: torch.device) -> dict[str, float]:
    """One pass over an epoch's tensor batches (no DataLoader, no per-sample Python); the epoch's training scores.

    `criterion` sums the loss over a batch (make_criterion)."""
    model.train()
    ctx = batches.ctx
    # Summed on the device and read once per epoch: a per-step .item() would wait for every step (GPU).
    loss_sum, preds, seen = torch.zeros((), device=device), [], []
    for xb, yb, size in tqdm(batches, desc=f"epoch {batches.number}", leave=False, disable=None if ctx.main else True,
                             mininterval=1.0):
        xb, yb = to_device_layout(xb, device), yb.to(device, non_blocking=True)
        with autocast(device):
            logits = model(xb)
            loss = criterion(logits.float(), yb)
        optimizer.zero_grad(set_to_none=True)
        # Mean over the global batch: DDP averages the ranks' gradients, so scale each rank's sum by world.
        (loss * ctx.world / size).backward()
        optimizer.step()
        loss_sum += loss.detach()
        preds.append(logits.argmax(1))
        seen.append(yb)
    y_all, pred_all = gather(torch.cat(seen), ctx), gather(torch.cat(preds), ctx)
    return _scores(all_sum(loss_sum.item(), ctx), y_all.numpy(), pred_all.numpy())


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


def score(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> dict[str, float]:
    """Mean (unweighted, unsmoothed) loss and scores of the model on (x, y): how fit judges an epoch on valid."""
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


@dataclass
class Trainer:
    """What fit sets up once: the model on its device (and its DDP wrapper), loss, optimizer, scheduler, batches."""

    model: nn.Module  # the plain model: its weights are the ones kept and scored
    net: nn.Module  # what trains: the model, or its DistributedDataParallel wrapper
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    batches: BatchSource
    valid: tuple[torch.Tensor, torch.Tensor]
    device: torch.device

    def state(self) -> dict[str, Any]:
        """Copies of the model, optimizer and scheduler states (what a checkpoint keeps)."""
        return {"model": copy.deepcopy(self.model.state_dict()), "optimizer": copy.deepcopy(self.optimizer.state_dict()),
                "scheduler": copy.deepcopy(self.scheduler.state_dict()) if self.scheduler is not None else None}

    def step_scheduler(self, valid_loss: float) -> None:
        """End of epoch: ReduceLROnPlateau follows the valid loss, the others the epoch count."""
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(valid_loss)
        elif self.scheduler is not None:
            self.scheduler.step()


def setup(model: nn.Module, data: dict[str, torch.Tensor], tp: TrainParams, generator: torch.Generator,
          device: torch.device, ctx: DistContext = SINGLE) -> Trainer:
    """Place data and model on the device and build what trains them, each once for the whole fit."""
    class_weight, sample_weight = imbalance_weights(data["y_train"], tp.imbalance, len(CLASSES))
    if device.type == "cuda":
        # The whole split fits in GPU memory (~0.3 GB): copy it once, from pinned memory, so that batches
        # are indexed on the GPU and no step waits for a host-to-device copy.
        data = {k: v.pin_memory().to(device, non_blocking=True) for k, v in data.items()}
    model.to(device, memory_format=torch.channels_last)  # conv weights channels-last, as the batches (to_device_layout)
    # Every rank evaluates the whole valid set with identical weights, so all take the same early-stop decision.
    net = nn.parallel.DistributedDataParallel(model) if ctx.world > 1 else model
    optimizer = make_optimizer(model, tp)
    batches = BatchSource(data["x_train"], data["y_train"], tp.batch_size, generator, sample_weight=sample_weight,
                          augment=tp.augment, ctx=ctx)
    return Trainer(model, net, make_criterion(class_weight, tp.label_smoothing, device), optimizer,
                   make_scheduler(optimizer, tp), batches, (data["x_valid"], data["y_valid"]), device)


class Stopping:
    """When fit stops: `patience` epochs without a lower valid loss, max_steps optimizer steps, or max_minutes
    (before an epoch as long as the last would pass it); otherwise after max_epochs."""

    def __init__(self, tp: TrainParams, ctx: DistContext) -> None:
        self.tp, self.ctx = tp, ctx
        self.since_best, self.steps = 0, 0
        self.start = self.epoch_start = time.perf_counter()

    def steps_left(self) -> int:
        """Steps the next epoch may take (0: no cap); the epoch clock starts."""
        self.epoch_start = time.perf_counter()
        return self.tp.max_steps - self.steps if self.tp.max_steps else 0

    def reason(self, improved: bool) -> str | None:
        """After an epoch (its steps counted in `steps`): why training stops now, or None to go on."""
        self.since_best = 0 if improved else self.since_best + 1
        if self.since_best >= self.tp.patience:
            return "patience"
        if self.tp.max_steps and self.steps >= self.tp.max_steps:
            return "max_steps"
        if self.tp.max_minutes and _time_is_up(self.start, self.epoch_start, self.tp.max_minutes, self.ctx):
            return "max_minutes"
        return None


def epoch_row(trainer: Trainer, train_scores: dict[str, float], valid_scores: dict[str, float]) -> dict[str, float]:
    """An epoch's logged scores: train/*, valid/* and, with a scheduler, the lr it trained with."""
    row = {f"train/{k}": v for k, v in train_scores.items()} | {f"valid/{k}": v for k, v in valid_scores.items()}
    if trainer.scheduler is not None:  # a constant lr would only draw a flat line
        row["lr"] = trainer.optimizer.param_groups[0]["lr"]
    return row


def fit(
    model: nn.Module, data: dict[str, torch.Tensor], tp: TrainParams, generator: torch.Generator,
    device: torch.device, on_epoch: Callable[[int, dict[str, float]], None] | None = None, ctx: DistContext = SINGLE,
) -> FitResult:
    """Train until max_epochs, max_steps, max_minutes or `patience` epochs without valid-loss improvement;
    load the best weights."""
    trainer = setup(model, data, tp, generator, device, ctx)
    stopping = Stopping(tp, ctx)
    best: FitResult | None = None
    history: list[dict[str, Any]] = []
    for epoch in range(1, tp.max_epochs + 1):
        batches = trainer.batches.epoch(stopping.steps_left())
        train_scores = train_one_epoch(trainer.net, trainer.criterion, trainer.optimizer, batches, device)
        stopping.steps += len(batches)
        valid_scores = score(model, *trainer.valid, device)
        row = epoch_row(trainer, train_scores, valid_scores)
        history.append({"epoch": epoch, **row})
        if on_epoch is not None:
            on_epoch(epoch, row)
        improved = best is None or valid_scores["loss"] < best.best_valid["loss"]
        if improved:
            best = FitResult(epoch, epoch, stopping.steps, valid_scores, best_state=trainer.state())
        trainer.step_scheduler(valid_scores["loss"])
        stop_reason = stopping.reason(improved)
        if stop_reason is not None:
            break
    assert best is not None
    model.load_state_dict(best.best_state["model"])
    best.epochs_run, best.steps, best.history = epoch, stopping.steps, history
    best.stop_reason = stop_reason or "max_epochs"
    return best


def _time_is_up(start: float, epoch_start: float, max_minutes: float, ctx: DistContext) -> bool:
    """Whether one more epoch as long as the last would pass the budget (rank 0 decides for all ranks)."""
    now = time.perf_counter()
    late = float((now - start) + (now - epoch_start) > max_minutes * 60)
    return all_sum(late if ctx.main else 0.0, ctx) > 0
