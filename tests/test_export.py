"""fer_pipeline.serving.export: the ONNX file computes what the PyTorch model does, and bad output paths are refused."""

from __future__ import annotations

import onnx
import pytest
import torch

from fer_pipeline import CLASSES, FerError
from fer_pipeline.params import to_dict
from fer_pipeline.serving.export import export_onnx, main, max_abs_diff
from fer_pipeline.training.checkpoint import save_checkpoint
from fer_pipeline.training.models import build_model

from .builders import small_model


def tiny(family: str) -> torch.nn.Module:
    """A small seeded model of the given family, in eval mode."""
    torch.manual_seed(0)
    mp = small_model(family, "relu", (16,), (4, 8), 2, 0.0, True)
    return build_model(mp).eval()


@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_onnx_matches_pytorch(tmp_path, family):
    """The exported model's logits match PyTorch's within 1e-5 (max abs diff) on random inputs of any batch size."""
    model = tiny(family)
    out = export_onnx(model, tmp_path / "model.onnx")
    assert max_abs_diff(model, out, n=5) < 1e-5
    assert max_abs_diff(model, out, n=1, seed=1) < 1e-5
    proto = onnx.load(out)
    onnx.checker.check_model(proto)
    assert {p.key: p.value for p in proto.metadata_props}["classes"] == ",".join(CLASSES)
    assert [p.name for p in out.parent.iterdir()] == ["model.onnx"]  # one self-contained file, no temp left


@pytest.mark.parametrize("name, message", [
    ("model.pt", r"must be a file name ending in \.onnx"),
    ("folder.onnx", r"is a folder"),
    ("afile/model.onnx", r"afile is a file, not a folder"),
])
def test_bad_output_path(tmp_path, name, message):
    """An output path without .onnx, naming a folder, or under a file is a FerError naming it; nothing is written."""
    (tmp_path / "folder.onnx").mkdir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FerError, match=message):
        export_onnx(tiny("mlp"), tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "folder.onnx"]


def test_cli(tmp_path, capsys):
    """`python -m fer_pipeline.serving.export --model M --out F` writes F from a checkpoint, with its normalization (mode, mean,
    std) as metadata; a bad --out is exit 2 with one line."""
    mp = small_model("mlp", "tanh", (8,))
    save_checkpoint(tmp_path / "model.pt", build_model(mp).state_dict(), None, None, 1,
                    {"variant": "v", "model": to_dict(mp), "preprocess": {"normalize": "standardize", "mean": 0.5, "std": 0.25}})
    assert main(["--model", str(tmp_path / "model.pt"), "--out", str(tmp_path / "m.onnx")]) == 0
    assert "max |ONNX - PyTorch|" in capsys.readouterr().out
    meta = {p.key: p.value for p in onnx.load(tmp_path / "m.onnx").metadata_props}
    assert meta["variant"] == "v" and meta["normalize"] == "standardize"
    assert (float(meta["mean"]), float(meta["std"])) == (0.5, 0.25)  # the checkpoint's own statistics travel along
    assert main(["--model", str(tmp_path / "model.pt"), "--out", str(tmp_path / "m.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "ending in .onnx" in err and len(err.splitlines()) == 1
