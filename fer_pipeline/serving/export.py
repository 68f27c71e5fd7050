"""Export a trained checkpoint to ONNX, for use outside PyTorch (onnxruntime, OpenCV's dnn, browsers).

The ONNX graph takes `image`: float32 (batch, 1, 48, 48), normalized as in training (see the
`normalize`, `mean` and `std` metadata entries), and gives `logits`: float32 (batch, 7) in the order of the `classes`
metadata entry; softmax them for probabilities.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fer_pipeline import CLASSES, IMAGE_SIZE, FerError
from fer_pipeline.cli import report_error
from fer_pipeline.io import atomic_path
from fer_pipeline.training.checkpoint import input_normalization, load_model

INPUT_NAME, OUTPUT_NAME = "image", "logits"


def check_out_path(out: Path) -> None:
    """Refuse an output path that is not a writable-looking *.onnx file name."""
    if out.suffix.lower() != ".onnx":
        raise FerError(f"{out}: output must be a file name ending in .onnx, e.g. model.onnx")
    if out.is_dir():
        raise FerError(f"{out}: is a folder; give a file name ending in .onnx")
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise FerError(f"{out}: {parent} is a file, not a folder; choose another output path")


def export_onnx(model: nn.Module, out: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write `model` (eval mode, CPU) as a self-contained ONNX file with a dynamic batch axis; return `out`."""
    check_out_path(out)
    model = model.cpu().eval()
    example = torch.zeros(1, 1, IMAGE_SIZE, IMAGE_SIZE)
    try:
        with warnings.catch_warnings():  # the exporter's internal deprecation chatter is not the user's concern
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model, (example,), None, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                        dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
    except Exception as e:
        raise FerError(f"{out}: ONNX export failed ({type(e).__name__}: {str(e).splitlines()[0][:160]})") from None
    for key, value in {"classes": ",".join(CLASSES), **(metadata or {})}.items():
        program.model.metadata_props[key] = value
    try:
        with atomic_path(out) as tmp:
            # One file: the weights are small, and a separate .data file is easy to lose when copying.
            program.save(tmp, external_data=False)
    except OSError as e:
        raise FerError(f"{out}: cannot write ({e.strerror or e}); choose a writable path") from None
    return out


def max_abs_diff(model: nn.Module, onnx_path: Path, n: int = 8, seed: int = 0) -> float:
    """Largest |ONNX - PyTorch| logit difference on `n` random inputs (onnxruntime, CPU)."""
    import onnxruntime as ort

    x = torch.randn(n, 1, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(seed))
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
    with torch.no_grad():
        want = model.cpu().eval()(x).numpy()
    return float(np.abs(got - want).max())


def checkpoint_metadata(ckpt: dict[str, Any], path: Path) -> dict[str, str]:
    """ONNX metadata from a checkpoint's args: the variant and how inputs must be normalized."""
    norm = input_normalization(ckpt, path)
    return {"variant": str(ckpt["args"].get("variant", "")), "normalize": norm["normalize"], "mean": repr(norm["mean"]),
            "std": repr(norm["std"]), "input": "float32 (batch,1,48,48): pixels/255, then (x-mean)/std when normalize=standardize"}


def main(argv: Sequence[str] | None = None) -> int:
    """Export a checkpoint to ONNX and check it against PyTorch; 0 on success, 2 on a bad input."""
    p = argparse.ArgumentParser(prog="python -m fer_pipeline.serving.export", description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="checkpoint (default: the released model named in data/release/model.json)")
    p.add_argument("--out", type=Path, required=True, help="ONNX file to write, e.g. model.onnx")
    args = p.parse_args(argv)
    try:
        if args.model is None:
            from fer_pipeline.serving.predict import released_model  # predict pulls in OpenCV; only needed for the default

            args.model = released_model()["model"]
        model, ckpt = load_model(args.model)
        export_onnx(model, args.out, checkpoint_metadata(ckpt, args.model))
    except FerError as e:
        return report_error(str(e))
    print(f"wrote {args.out} from {args.model}; max |ONNX - PyTorch| on 8 random inputs: {max_abs_diff(model, args.out):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
