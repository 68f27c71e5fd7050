"""fer_pipeline.training.train: fit learns, is bit-reproducible, stops early on valid loss, honours max_steps; helpers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from fer_pipeline.params import load_params
from fer_pipeline.training.models import build_model
from fer_pipeline.training.seed import seed_everything
from fer_pipeline.training.train import (
    BatchSource,
    batch_bounds,
    fit,
    make_criterion,
    make_optimizer,
    make_scheduler,
    predict,
    resolve_device,
    score,
    train_one_epoch,
)

from .builders import small_model

ROOT = Path(__file__).resolve().parents[1]
PARAMS = load_params(ROOT / "params.yaml")
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def torch_state(monkeypatch):
    """Undo seed_everything's global switches after each test (conftest keeps torch at one thread)."""
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    yield
    torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def train_params(**changes):
    """The repo's train params, shrunk for a unit test."""
    base = {"batch_size": 16, "lr": 0.01, "max_epochs": 8, "patience": 3, "max_steps": 0}
    return dataclasses.replace(PARAMS.train, **(base | changes))


def model_params(**changes):
    """The repo's model params with a 16-unit MLP (or a small CNN with family="cnn")."""
    fields = {"family": "mlp", "activation": PARAMS.model.activation, "hidden": (16,), "dropout": PARAMS.model.dropout,
              "batch_norm": PARAMS.model.batch_norm} | changes
    return small_model(**fields)


def separable(n_per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(N,1,48,48) images where class c lights up rows 6c..6c+5, plus mild noise: linearly separable."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(7).repeat_interleave(n_per_class)
    x = 0.1 * torch.randn(len(y), 1, 48, 48, generator=g)
    for c in range(7):
        x[y == c, 0, 6 * c:6 * c + 6, :] += 1.0
    return x, y


def data(valid_shift: int = 0) -> dict[str, torch.Tensor]:
    """140 train and 70 valid samples; valid_shift relabels valid as (y + shift) % 7 (to make valid loss rise)."""
    x_train, y_train = separable(20, 0)
    x_valid, y_valid = separable(10, 1)
    return {"x_train": x_train, "y_train": y_train, "x_valid": x_valid, "y_valid": (y_valid + valid_shift) % 7}


def noisy_valid() -> dict[str, torch.Tensor]:
    """data() with 30% of valid labels shifted: valid loss falls, bottoms out, then rises as the model grows sure."""
    d = data()
    shifted = torch.arange(len(d["y_valid"])) % 10 < 3
    d["y_valid"] = torch.where(shifted, (d["y_valid"] + 1) % 7, d["y_valid"])
    return d


def run(tp, mp=None, d=None, seed: int = 0):
    """Seed, build a model and fit it; (model, result)."""
    gen = seed_everything(seed)
    model = build_model(mp or model_params())
    return model, fit(model, d or data(), tp, gen, CPU)


def test_fit_learns_separable_data():
    """On separable data fit lowers the valid loss well below the untrained model's and reaches >= 95% accuracy."""
    d = data()
    seed_everything(0)
    untrained = score(build_model(model_params()), d["x_valid"], d["y_valid"], CPU)["loss"]
    _, result = run(train_params(), d=d)
    assert result.best_valid["loss"] < 0.25 * untrained
    assert result.best_valid["accuracy"] >= 0.95
    assert result.history[-1]["train/accuracy"] >= 0.95
    assert [h["epoch"] for h in result.history] == list(range(1, result.epochs_run + 1))


def test_same_seed_bit_identical():
    """Two fits with the same seed give bit-identical weights and identical histories; another seed differs."""
    m1, r1 = run(train_params(max_epochs=3))
    m2, r2 = run(train_params(max_epochs=3))
    s1, s2 = m1.state_dict(), m2.state_dict()
    seed_everything(0)
    untrained = build_model(model_params()).state_dict()
    assert not torch.equal(s1["1.weight"], untrained["1.weight"])  # training moved the weights: equal ones are not just the init
    for k in s1:
        assert torch.equal(s1[k], s2[k]), k
    assert r1.history == r2.history
    m3, _ = run(train_params(max_epochs=3), seed=1)
    assert not torch.equal(m3.state_dict()["1.weight"], s1["1.weight"])


def test_early_stopping_on_rising_valid_loss():
    """When valid loss rises (valid labels shifted), fit stops `patience` epochs after the best, which is the argmin."""
    model, result = run(train_params(patience=1, max_epochs=20), d=data(valid_shift=1))
    losses = [h["valid/loss"] for h in result.history]
    assert result.epochs_run < 20
    assert result.epochs_run == len(result.history)
    assert result.best_epoch == int(np.argmin(losses)) + 1
    assert result.epochs_run == result.best_epoch + 1
    assert result.best_valid["loss"] == min(losses)


def test_early_stopping_after_a_minimum():
    """Valid loss that falls then rises: best_epoch is its argmin (past epoch 1), training stops `patience` later."""
    _, result = run(train_params(patience=2, max_epochs=30, lr=3e-4), d=noisy_valid())
    losses = [h["valid/loss"] for h in result.history]
    assert result.best_epoch > 1
    assert result.best_epoch == int(np.argmin(losses)) + 1
    assert result.epochs_run == result.best_epoch + 2 < 30


def test_best_weights_restored():
    """After fit the model holds the best epoch's weights, and evaluating it gives the best valid loss."""
    d = noisy_valid()
    model, result = run(train_params(patience=2, max_epochs=30, lr=3e-4), d=d)
    assert 1 < result.best_epoch < result.epochs_run  # the last epoch was not the best
    for k, v in model.state_dict().items():
        assert torch.equal(v, result.best_state["model"][k]), k
    assert score(model, d["x_valid"], d["y_valid"], CPU)["loss"] == pytest.approx(result.best_valid["loss"])
    assert result.best_state["scheduler"] is None and "state" in result.best_state["optimizer"]


def test_max_steps_caps_total_steps():
    """max_steps=12 with 9 batches per epoch (140/16) stops after 12 optimizer steps, in epoch 2."""
    _, result = run(train_params(max_steps=12, max_epochs=10, patience=10))
    assert result.steps == 12
    assert result.epochs_run == 2


def test_max_steps_within_first_epoch():
    """max_steps smaller than one epoch stops inside epoch 1."""
    _, result = run(train_params(max_steps=4, max_epochs=10))
    assert result.steps == 4 and result.epochs_run == 1 and result.best_epoch == 1


def test_steps_without_cap():
    """Without max_steps each epoch takes ceil(140/16) = 9 steps."""
    _, result = run(train_params(max_epochs=2, patience=5))
    assert result.epochs_run == 2 and result.steps == 18


def test_on_epoch_callback_and_step_schedule():
    """on_epoch sees every epoch's row; the step scheduler (max_epochs 3 -> step 1, gamma 0.1) divides lr by 10."""
    seen = []
    gen = seed_everything(0)
    tp = train_params(max_epochs=3, patience=5, scheduler="step")
    result = fit(build_model(model_params()), data(), tp, gen, CPU, on_epoch=lambda e, row: seen.append((e, row)))
    assert [e for e, _ in seen] == [1, 2, 3]
    assert [row["lr"] for _, row in seen] == pytest.approx([0.01, 0.001, 0.0001])
    keys = {"train/loss", "train/accuracy", "valid/loss", "valid/accuracy", "valid/macro_recall", "lr"}
    assert keys <= set(seen[0][1])
    assert result.best_state["scheduler"] is not None


def test_plateau_scheduler_runs():
    """fit steps ReduceLROnPlateau with the valid loss (no error, lr never grows)."""
    _, result = run(train_params(max_epochs=4, patience=10, scheduler="plateau"), d=data(valid_shift=1))
    lrs = [h["lr"] for h in result.history]
    assert lrs[0] == 0.01 and all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))
    assert lrs[-1] < 0.01  # valid loss kept rising, so the lr was cut


def test_predict_probabilities():
    """predict returns (N,7) logits and softmax probabilities summing to 1, in eval mode."""
    torch.manual_seed(0)
    model = build_model(model_params(dropout=0.5)).train()
    x, _ = separable(2, 0)
    logits, probs = predict(model, x, CPU)
    assert not model.training
    assert logits.shape == probs.shape == (14, 7)
    assert torch.allclose(probs.sum(1), torch.ones(14), atol=1e-6)
    logits2, _ = predict(model, x, CPU)
    assert torch.equal(logits, logits2)  # eval mode: dropout off


def test_resolve_device_auto_cpu(monkeypatch):
    """auto gives cpu when neither cuda nor mps is available."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")


def test_resolve_device_auto_prefers_cuda(monkeypatch):
    """auto gives cuda when it is available (before mps)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_resolve_device_auto_mps(monkeypatch):
    """auto gives mps when cuda is absent and mps is available."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")


@pytest.mark.skipif(torch.cuda.is_available() or torch.backends.mps.is_available(), reason="accelerator present")
def test_resolve_device_auto_here():
    """On this CPU-only machine auto resolves to cpu."""
    assert resolve_device("auto") == torch.device("cpu")


def test_resolve_device_explicit():
    """An explicit device name is taken as is."""
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("cuda") == torch.device("cuda")


@pytest.mark.parametrize(
    ("name", "cls"),
    [("sgd", torch.optim.SGD), ("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW),
     ("rmsprop", torch.optim.RMSprop)],
)
def test_make_optimizer_class(name, cls):
    """make_optimizer returns the class named by train.optimizer with train.lr and weight_decay."""
    model = build_model(model_params())
    opt = make_optimizer(model, train_params(optimizer=name, lr=0.05, weight_decay=0.001))
    assert type(opt) is cls
    group = opt.param_groups[0]
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.001
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))


def test_sgd_momentum_and_nesterov():
    """sgd uses train.momentum, and Nesterov only when train.nesterov says so (momentum alone never turns it on);
    rmsprop uses momentum too."""
    model = build_model(model_params())
    g = make_optimizer(model, train_params(optimizer="sgd", momentum=0.9, nesterov=False)).param_groups[0]
    assert g["momentum"] == 0.9 and g["nesterov"] is False
    g = make_optimizer(model, train_params(optimizer="sgd", momentum=0.9, nesterov=True)).param_groups[0]
    assert g["momentum"] == 0.9 and g["nesterov"] is True
    g = make_optimizer(model, train_params(optimizer="sgd", momentum=0.0, nesterov=False)).param_groups[0]
    assert g["momentum"] == 0.0 and g["nesterov"] is False
    g = make_optimizer(model, train_params(optimizer="rmsprop", momentum=0.5)).param_groups[0]
    assert g["momentum"] == 0.5


def test_make_scheduler_per_name():
    """none -> None; cosine over max_epochs; step x0.1 every max_epochs//3 epochs; plateau halves after 1 bad epoch."""
    opt = make_optimizer(build_model(model_params()), train_params())
    assert make_scheduler(opt, train_params(scheduler="none")) is None
    cos = make_scheduler(opt, train_params(scheduler="cosine", max_epochs=30))
    assert isinstance(cos, torch.optim.lr_scheduler.CosineAnnealingLR) and cos.T_max == 30
    step = make_scheduler(opt, train_params(scheduler="step", max_epochs=30))
    assert isinstance(step, torch.optim.lr_scheduler.StepLR) and step.step_size == 10 and step.gamma == 0.1
    assert make_scheduler(opt, train_params(scheduler="step", max_epochs=2)).step_size == 1
    plateau = make_scheduler(opt, train_params(scheduler="plateau"))
    assert isinstance(plateau, torch.optim.lr_scheduler.ReduceLROnPlateau)
    assert plateau.factor == 0.5 and plateau.patience == 1


def test_imbalance_weights_inverse_frequency():
    """class_weights = N / (classes * count): 1 for an average class, larger for rare ones; sampler weights per image."""
    from fer_pipeline.training.train import imbalance_weights

    y = torch.tensor([0, 0, 0, 1])  # with 2 classes: counts 3 and 1
    cw, sw = imbalance_weights(y, "class_weights", 2)
    assert sw is None and torch.allclose(cw, torch.tensor([4 / 6, 4 / 2]))
    cw, sw = imbalance_weights(y, "weighted_sampler", 2)
    assert cw is None and torch.allclose(sw, torch.tensor([4 / 6, 4 / 6, 4 / 6, 2.0]))
    assert imbalance_weights(y, "none", 2) == (None, None)


class Spy(torch.nn.Module):
    """A linear classifier of 1-feature rows that records every training batch it is shown (x holds the row index)."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 7)
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        if self.training:
            self.seen.append(x[:, 0].long())
        return self.linear(x)


def seen_per_epoch(imbalance: str, epochs: int = 5) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Fit a Spy on 200 rows (180 of class 0, 20 of class 1) with train.imbalance; (row indices per epoch, y_train)."""
    y = torch.tensor([0] * 180 + [1] * 20)
    d = {"x_train": torch.arange(200, dtype=torch.float32)[:, None], "y_train": y,
         "x_valid": torch.zeros(7, 1), "y_valid": torch.arange(7)}
    model = Spy()
    fit(model, d, train_params(max_epochs=epochs, patience=epochs, imbalance=imbalance), seed_everything(0), CPU)
    per_epoch = torch.cat(model.seen).split(200)
    assert len(per_epoch) == epochs
    return list(per_epoch), y


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")  # only classes 0 and 1 are trained
def test_weighted_sampler_balances_what_an_epoch_sees():
    """With imbalance=weighted_sampler, fit's epochs draw a 10%-minority class about as often as the majority (with
    replacement, so rows repeat); without it every epoch is a permutation of the training rows."""
    epochs, y = seen_per_epoch("weighted_sampler")
    drawn = torch.cat(epochs)
    share = (y[drawn] == 1).float().mean().item()
    assert 0.4 < share < 0.6  # expected 0.5 over 1000 draws (sd 0.016); unweighted it would be 0.1
    assert any(len(e.unique()) < 200 for e in epochs)  # draws with replacement
    epochs, y = seen_per_epoch("none")
    for e in epochs:
        assert torch.equal(e.sort().values, torch.arange(200))
    assert not torch.equal(epochs[0], epochs[1])  # reshuffled each epoch


def test_epoch_order_draws_in_proportion_to_sample_weight():
    """epoch_order: n indices drawn in proportion to sample_weight (zero weight never drawn), else a permutation of
    range(n); the same generator state gives the same order."""
    from fer_pipeline.training.train import epoch_order

    w = torch.tensor([0.0, 1.0, 3.0, 0.0])
    order = epoch_order(4000, w.repeat(1000), torch.Generator().manual_seed(0))
    counts = torch.bincount(order % 4, minlength=4)
    assert len(order) == 4000 and counts[0] == 0 and counts[3] == 0
    assert 900 < counts[1] < 1100 and 2900 < counts[2] < 3100  # expected 1000 and 3000 (sd 27)
    perm = epoch_order(50, None, torch.Generator().manual_seed(0))
    assert torch.equal(perm.sort().values, torch.arange(50)) and not torch.equal(perm, torch.arange(50))
    assert torch.equal(perm, epoch_order(50, None, torch.Generator().manual_seed(0)))


@pytest.mark.parametrize(("name", "fused"), [("sgd", True), ("adam", True), ("adamw", True), ("rmsprop", None)])
def test_optimizer_uses_fused_kernels_on_cpu(name, fused):
    """SGD/Adam/AdamW take torch's fused single-kernel step on CPU; RMSprop (no fused kernel) its multi-tensor path."""
    opt = make_optimizer(build_model(model_params()), train_params(optimizer=name))
    group = opt.param_groups[0]
    if fused:
        assert group["fused"] is True
    else:
        assert group["foreach"] is True


def test_cpu_is_fp32_and_channels_last():
    """On CPU there is no mixed precision (results stay fp32), and image batches go channels-last with the same
    values (the faster layout for convolutions on CPU as on CUDA); other tensors keep their layout."""
    from fer_pipeline.training.train import autocast, to_device_layout

    x = torch.randn(2, 3, 8, 8)
    with autocast(CPU):
        y = torch.nn.Linear(4, 4)(torch.randn(3, 4))
    assert y.dtype == torch.float32
    out = to_device_layout(x, CPU)
    assert out.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out, x)
    flat = torch.randn(5, 4)
    assert to_device_layout(flat, CPU) is flat


def test_max_minutes_stops_before_an_epoch_that_would_overrun(monkeypatch):
    """With a time budget, fit stops once another epoch as long as the last would end past it (stop_reason says so)."""
    import fer_pipeline.training.train as train_module

    clock = iter(float(t) for t in range(0, 10_000, 20))  # every perf_counter() call advances 20 s
    monkeypatch.setattr(train_module.time, "perf_counter", lambda: next(clock))
    _, result = run(train_params(max_epochs=50, patience=50, max_minutes=2))
    assert result.stop_reason == "max_minutes"
    assert 1 <= result.epochs_run < 50


def test_stop_reasons():
    """fit reports why it stopped: max_epochs, patience (early stop) or max_steps."""
    assert run(train_params(max_epochs=2, patience=5))[1].stop_reason == "max_epochs"
    assert run(train_params(max_epochs=5, max_steps=3))[1].stop_reason == "max_steps"
    assert run(train_params(max_epochs=40, patience=1), d=noisy_valid())[1].stop_reason == "patience"


def epoch_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, label_smoothing: float) -> float:
    """train_one_epoch's mean training loss for a model it leaves unchanged (SGD with lr 0)."""
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    batches = BatchSource(x, y, 32, torch.Generator().manual_seed(0)).epoch()
    return train_one_epoch(model, make_criterion(None, label_smoothing, CPU), opt, batches, CPU)["loss"]


def test_label_smoothing_raises_the_loss_of_confident_predictions():
    """Label smoothing eps mixes eps/7 of every class into the target: the training loss of confident correct predictions
    rises well above plain cross-entropy (full confidence is no longer rewarded), a uniform prediction's stays log 7,
    and eps = 0 is plain cross-entropy. fit passes train.label_smoothing through."""
    x, y = separable(10, 0)
    confident = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 48, 7))
    with torch.no_grad():
        confident[1].bias.zero_()
        rows = torch.arange(48 * 48) // 48
        for c in range(7):  # logit c ~ 10 when class c's rows are lit, ~ 0 otherwise
            confident[1].weight[c] = 10.0 / 288 * ((rows >= 6 * c) & (rows < 6 * c + 6)).float()
        logp = confident(x).log_softmax(1)
    nll = -logp[torch.arange(len(y)), y]
    assert (logp.argmax(1) == y).all() and nll.max() < 0.01
    plain = epoch_loss(confident, x, y, 0.0)
    smoothed = epoch_loss(confident, x, y, 0.3)
    assert plain == pytest.approx(nll.mean().item(), rel=1e-5)
    assert smoothed == pytest.approx((0.7 * nll + 0.3 * -logp.mean(1)).mean().item(), rel=1e-5)
    assert smoothed > plain + 1.0
    uniform = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 48, 7))
    torch.nn.init.zeros_(uniform[1].weight)
    torch.nn.init.zeros_(uniform[1].bias)
    assert epoch_loss(uniform, x, y, 0.3) == pytest.approx(np.log(7), rel=1e-6) == epoch_loss(uniform, x, y, 0.0)
    _, r0 = run(train_params(max_epochs=2))
    _, r1 = run(train_params(max_epochs=2, label_smoothing=0.3))
    assert r1.history[-1]["train/loss"] > r0.history[-1]["train/loss"] + 0.5


def test_augmented_fit_is_reproducible_and_differs_from_plain():
    """flip_shift training is bit-identical for a seed and differs from training without augmentation."""
    cnn = model_params(family="cnn", channels=(4,), batch_norm=True)
    a, _ = run(train_params(max_epochs=1, augment="flip_shift"), mp=cnn)
    b, _ = run(train_params(max_epochs=1, augment="flip_shift"), mp=cnn)
    c, _ = run(train_params(max_epochs=1), mp=cnn)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    assert not torch.equal(a.state_dict()["0.weight"], c.state_dict()["0.weight"])


def test_a_lone_last_image_joins_the_batch_before():
    """Batches cover every image once; a last batch with fewer than two images per rank joins the one before
    (batch norm cannot train on one image), so a batch-normed net trains on 145 = 9 x 16 + 1 images at batch 16."""
    assert batch_bounds(64, 16) == [0, 16, 32, 48, 64]
    assert batch_bounds(65, 16) == [0, 16, 32, 48, 65]
    assert batch_bounds(66, 16) == [0, 16, 32, 48, 64, 66]
    assert batch_bounds(67, 16, world=2) == [0, 16, 32, 48, 67] and batch_bounds(68, 16, world=2)[-2] == 64
    assert batch_bounds(1, 16) == [0, 1]
    d = data()
    x, y = separable(21, 0)
    d["x_train"], d["y_train"] = x[:145], y[:145]
    _, result = run(train_params(max_epochs=1), model_params(batch_norm=True), d)
    assert result.epochs_run == 1


def rank_batches(world: int, rank: int, augment: str, epochs: int = 2) -> list[list[tuple[torch.Tensor, torch.Tensor, int]]]:
    """Each epoch's batches of a BatchSource over 64 rows (row i's pixels hold i), batch 16, as rank `rank` of `world`."""
    from fer_pipeline.training.distributed import DistContext

    x = torch.arange(64, dtype=torch.float32)[:, None, None, None].expand(64, 1, 8, 8).contiguous()
    source = BatchSource(x, torch.arange(64) % 7, 16, torch.Generator().manual_seed(0), augment=augment,
                         ctx=DistContext(rank=rank, world=world))
    return [list(source.epoch()) for _ in range(epochs)]


@pytest.mark.parametrize("augment", ["none", "flip_shift"])
def test_batch_source_shards_each_global_batch_across_ranks(augment):
    """A BatchSource owns order, augmentation and sharding: with the same generator seed, the ranks of a 2-process
    run take every other image of the very batch (same rows, same augmented pixels) one process trains on, and
    each reports the global batch's size; every epoch is a fresh permutation of all rows."""
    one = rank_batches(1, 0, augment)
    ranks = [rank_batches(2, r, augment) for r in range(2)]
    for e, epoch in enumerate(one):
        rows = torch.cat([xb[:, 0, 0, 0] for xb, _, _ in epoch]) if augment == "none" else None
        if rows is not None:
            assert torch.equal(rows.sort().values, torch.arange(64, dtype=torch.float32))
        for b, (xb, yb, size) in enumerate(epoch):
            assert size == 16 == len(xb)
            for r in range(2):
                xr, yr, size_r = ranks[r][e][b]
                assert size_r == 16 and torch.equal(xr, xb[r::2]) and torch.equal(yr, yb[r::2])
    assert not torch.equal(one[0][0][0], one[1][0][0])  # reshuffled (and re-augmented) each epoch


def test_batch_source_cuts_an_epoch_to_max_batches():
    """epoch(max_batches) yields at most that many batches; len() is a full epoch's count, the last short batch
    kept (ceil(140/16) = 9)."""
    x, y = separable(20, 0)
    source = BatchSource(x, y, 16, torch.Generator().manual_seed(0))
    assert len(source) == 9 and len(list(source.epoch())) == 9
    cut = source.epoch(4)
    assert len(cut) == 4 and len(list(cut)) == 4 and cut.number == 2


def test_fit_builds_the_criterion_once(monkeypatch):
    """fit builds its loss once for the whole run (class weights, label smoothing), not once per epoch."""
    import fer_pipeline.training.train as train_module

    calls = []
    real = train_module.make_criterion
    monkeypatch.setattr(train_module, "make_criterion", lambda *a: calls.append(a) or real(*a))
    _, result = run(train_params(max_epochs=3, patience=5, imbalance="class_weights", label_smoothing=0.1))
    assert result.epochs_run == 3 and len(calls) == 1
    class_weight, smoothing, _ = calls[0]
    assert class_weight is not None and smoothing == 0.1
