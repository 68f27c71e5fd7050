"""fer_pipeline.training.checkpoint: save/load round trip, architecture rebuild, and safe refusal of bad files."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from fer_pipeline import CLASSES, FerError
from fer_pipeline.params import ModelParams, to_dict
from fer_pipeline.training.checkpoint import input_normalization, load_checkpoint, load_model, save_checkpoint
from fer_pipeline.training.models import build_model

from .builders import small_model


def model_params(family: str = "mlp", hidden=(32,), channels=(4,), activation: str = "tanh") -> ModelParams:
    """Small model params."""
    return small_model(family, activation, hidden, channels, 2, 0.0, family == "cnn")


def save_trained(path: Path, mp: ModelParams, epoch: int = 3) -> nn.Module:
    """Build a model with its optimizer, take one step, and save it; return the model."""
    torch.manual_seed(0)
    model = build_model(mp)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.rand(4, 1, 48, 48)).sum().backward()
    opt.step()
    save_checkpoint(path, model.state_dict(), opt.state_dict(), None, epoch,
                    {"model": to_dict(mp), "train": {"lr": 0.01}, "variant": "unit"})
    return model


class Exploit:
    """An object whose unpickling would create a file."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def test_round_trip(tmp_path):
    """Weights, optimizer state, epoch, args and classes come back as saved."""
    path = tmp_path / "sub" / "model.pt"
    model = save_trained(path, model_params())
    ckpt = load_checkpoint(path)
    assert ckpt["epoch"] == 3
    assert ckpt["args"] == {"model": to_dict(model_params()), "train": {"lr": 0.01}, "variant": "unit"}
    assert ckpt["classes"] == list(CLASSES)
    assert ckpt["scheduler"] is None
    assert ckpt["optimizer"]["param_groups"][0]["lr"] == 0.01
    state = model.state_dict()
    assert set(ckpt["model"]) == set(state)
    for k, v in state.items():
        assert torch.equal(ckpt["model"][k], v), k
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp file left


@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_load_model_rebuilds_architecture(tmp_path, family):
    """load_model rebuilds the architecture named in args, loads the weights and returns it in eval mode."""
    mp = model_params(family, hidden=(32, 16), channels=(4, 8))
    model = save_trained(tmp_path / "model.pt", mp).eval()
    loaded, ckpt = load_model(tmp_path / "model.pt")
    assert not loaded.training
    assert str(loaded) == str(build_model(mp))
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    x = torch.rand(2, 1, 48, 48)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert ckpt["epoch"] == 3


def test_malicious_torch_save_refused(tmp_path):
    """A checkpoint (torch.save) holding an object with a hostile __reduce__ is refused and its code never runs."""
    target = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    torch.save({"model": {}, "args": Exploit(target), "classes": list(CLASSES)}, path)
    with pytest.raises(FerError, match=r"model\.pt: not a loadable checkpoint"):
        load_checkpoint(path)
    assert not target.exists()


def test_malicious_plain_pickle_refused(tmp_path):
    """A plain pickle file named .pt with a hostile __reduce__ is refused and its code never runs."""
    target = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"model": Exploit(target)}, protocol=2))
    with pytest.raises(FerError, match=r"not a loadable checkpoint"):
        load_model(path)
    assert not target.exists()


def test_truncated_checkpoint(tmp_path):
    """A checkpoint cut short is a FerError, not a torch traceback."""
    path = tmp_path / "model.pt"
    save_trained(path, model_params())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FerError, match=r"model\.pt: not a loadable checkpoint"):
        load_checkpoint(path)


def test_text_file(tmp_path):
    """A text file named model.pt is a FerError."""
    path = tmp_path / "model.pt"
    path.write_text("hello, this is not a checkpoint\n")
    with pytest.raises(FerError, match=r"model\.pt: not a loadable checkpoint"):
        load_checkpoint(path)


def test_empty_file(tmp_path):
    """An empty file is a FerError."""
    path = tmp_path / "model.pt"
    path.write_bytes(b"")
    with pytest.raises(FerError, match=r"not a loadable checkpoint"):
        load_checkpoint(path)


def test_not_a_project_checkpoint(tmp_path):
    """A valid torch file without model/args/classes (e.g. a bare state dict) is a FerError."""
    path = tmp_path / "model.pt"
    torch.save(build_model(model_params()).state_dict(), path)
    with pytest.raises(FerError, match=r"not a checkpoint of this project"):
        load_checkpoint(path)


def test_weights_from_other_architecture(tmp_path):
    """Weights of hidden [64] under args saying hidden [32] are a FerError, not a size-mismatch traceback."""
    path = tmp_path / "model.pt"
    weights = build_model(model_params(hidden=(64,))).state_dict()
    save_checkpoint(path, weights, None, None, 1, {"model": to_dict(model_params(hidden=(32,)))})
    with pytest.raises(FerError, match=r"model\.pt: weights do not fit the model it names"):
        load_model(path)


def test_other_classes(tmp_path):
    """A checkpoint trained for another class list is refused, naming both lists."""
    path = tmp_path / "model.pt"
    torch.save({"model": {}, "args": {}, "classes": ["cat", "dog"]}, path)
    with pytest.raises(FerError, match=r"trained for classes \['cat', 'dog'\]"):
        load_checkpoint(path)


def test_invalid_model_args(tmp_path):
    """A checkpoint whose args name an invalid model (unknown activation) is a FerError naming the key."""
    path = tmp_path / "model.pt"
    args = {"model": to_dict(model_params()) | {"activation": "swish"}}
    save_checkpoint(path, build_model(model_params()).state_dict(), None, None, 1, args)
    with pytest.raises(FerError, match=r"'model\.activation' is 'swish'"):
        load_model(path)


def test_model_args_have_only_the_family_fields(tmp_path):
    """A checkpoint's model settings are its family's own fields (no hidden widths on a CNN), and they load back."""
    path = tmp_path / "model.pt"
    mp = model_params("cnn", channels=(4, 8))
    save_checkpoint(path, build_model(mp).state_dict(), None, None, 1, {"model": to_dict(mp)})
    model, ckpt = load_model(path)
    assert "hidden" not in ckpt["args"]["model"] and sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 4


def test_model_args_without_a_field_are_refused(tmp_path):
    """A checkpoint whose model args miss a field (here convs) is a FerError naming the key: no default fills it in."""
    path = tmp_path / "model.pt"
    mp = model_params("cnn")
    args = {k: v for k, v in to_dict(mp).items() if k != "convs"}
    save_checkpoint(path, build_model(mp).state_dict(), None, None, 1, {"model": args})
    with pytest.raises(FerError, match=r"missing key 'model\.convs'"):
        load_model(path)


def test_input_normalization_is_the_record_the_checkpoint_holds(tmp_path):
    """input_normalization gives the checkpoint's own {normalize, mean, std} (as preprocess wrote them, stored by the
    train stage); a record without mean and std, or with std 0, is a FerError naming the checkpoint."""
    path = tmp_path / "model.pt"
    record = {"normalize": "standardize", "mean": 0.51, "std": 0.26}
    save_checkpoint(path, {}, None, None, 1, {"model": {}, "preprocess": record})
    assert input_normalization(load_checkpoint(path), path) == record
    for bad in ({"normalize": "standardize"}, {**record, "std": 0.0}, None):
        save_checkpoint(path, {}, None, None, 1, {"model": {}, "preprocess": bad})
        with pytest.raises(FerError, match=f"^{re.escape(str(path))}: checkpoint"):
            input_normalization(load_checkpoint(path), path)


def test_missing_file(tmp_path):
    """A missing checkpoint is a FerError saying it was not found."""
    with pytest.raises(FerError, match=r"model\.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "model.pt")
    with pytest.raises(FerError, match=r"checkpoint not found"):
        load_model(tmp_path / "model.pt")


@pytest.mark.parametrize("state", [
    {"model": {}, "args": {}, "classes": list(CLASSES)},  # no model settings
    {"model": [1, 2], "args": {"model": {}}, "classes": list(CLASSES)},  # weights not a dict
])
def test_checkpoint_without_settings_or_weights(tmp_path, state):
    """A checkpoint lacking model settings, or whose weights are not a state dict, is a FerError."""
    path = tmp_path / "model.pt"
    torch.save(state, path)
    with pytest.raises(FerError, match=r"model\.pt: checkpoint lacks its model settings or weights"):
        load_model(path)


def test_same_state_gives_identical_bytes(tmp_path):
    """Saving the same state twice (to different names) gives byte-identical files, so DVC sees no change."""
    weights = build_model(model_params()).state_dict()
    save_checkpoint(tmp_path / "a.pt", weights, None, None, 1, {"model": to_dict(model_params())})
    save_checkpoint(tmp_path / "b.pt", weights, None, None, 1, {"model": to_dict(model_params())})
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
