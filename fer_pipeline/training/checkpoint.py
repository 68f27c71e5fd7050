"""The one checkpoint save/load pair: model + optimizer + scheduler + epoch + args, loaded safely."""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fer_pipeline import CLASSES, FerError
from fer_pipeline.io import atomic_path
from fer_pipeline.params import ModelParams, PreprocessParams, build_section
from fer_pipeline.training.models import build_model


def save_checkpoint(
    path: str | Path, model: dict[str, Any], optimizer: dict[str, Any] | None, scheduler: dict[str, Any] | None,
    epoch: int, args: dict[str, Any],
) -> None:
    """Write state dicts + epoch + args atomically; `args` must be plain data (dicts, lists, numbers, strings)."""
    state = {
        "model": model,
        "optimizer": optimizer,
        "scheduler": scheduler,
        "epoch": epoch,
        "args": args,
        "classes": list(CLASSES),
    }
    # Serialize in memory: torch names the zip's inner folder after the file, and the temp file's
    # random name would make two identical checkpoints differ byte for byte.
    buf = io.BytesIO()
    torch.save(state, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint without ever executing pickled code (weights_only=True)."""
    path = Path(path)
    if not path.is_file():
        raise FerError(f"{path}: checkpoint not found; run `dvc repro` to train it")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on its way to refusing a file
            warnings.simplefilter("ignore")
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    # Garbage bytes make the weights-only unpickler fail in many ways (KeyError, IndexError, struct.error...):
    # whatever torch.load raises, the file is not a loadable checkpoint.
    except Exception as e:
        raise FerError(
            f"{path}: not a loadable checkpoint ({type(e).__name__}: not a torch file, truncated, or holding objects "
            "beyond tensors and plain data, which are never unpickled); retrain it with `dvc repro`"
        ) from None
    if not isinstance(ckpt, dict) or not {"model", "args", "classes"} <= set(ckpt):
        raise FerError(f"{path}: not a checkpoint of this project (no model/args/classes); retrain it")
    if list(ckpt["classes"]) != list(CLASSES):
        raise FerError(f"{path}: trained for classes {ckpt['classes']}, this project has {list(CLASSES)}")
    return ckpt


def load_model(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model a checkpoint describes and load its weights; (model in eval mode, checkpoint)."""
    ckpt = load_checkpoint(path)
    args = ckpt["args"]
    if not isinstance(args, dict) or not isinstance(args.get("model"), dict) or not isinstance(ckpt["model"], dict):
        raise FerError(f"{path}: checkpoint lacks its model settings or weights; retrain it with `dvc repro`")
    model = build_model(build_section(ModelParams, args["model"], "model", f"{path} (args)"))
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, TypeError, KeyError) as e:
        raise FerError(f"{path}: weights do not fit the model it names ({str(e).splitlines()[0][:160]})") from None
    return model.eval(), ckpt


def input_normalization(ckpt: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """How the model's training inputs were scaled: {"normalize", "mean", "std"} as the preprocess stage wrote them,
    which the train stage stores in the checkpoint's args (preprocess) so that the model needs no other file."""
    record = ckpt["args"].get("preprocess") if isinstance(ckpt.get("args"), dict) else None
    hint = "retrain it with `dvc repro`"
    try:
        mode = build_section(PreprocessParams, {"normalize": record["normalize"]}, "preprocess", f"{path} (args)").normalize
        mean, std = float(record["mean"]), float(record["std"])
    except (KeyError, TypeError, ValueError):
        raise FerError(f"{path}: checkpoint args lack the input normalization (preprocess: normalize, mean, std); {hint}") from None
    if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise FerError(f"{path}: checkpoint normalization has mean {mean} and std {std} (std must be > 0); {hint}")
    return {"normalize": mode, "mean": mean, "std": std}
