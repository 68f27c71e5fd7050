"""fer_pipeline.training.models: MLP and CNN families, every activation, depth, dropout and softmax-over-units."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from fer_pipeline import CLASSES
from fer_pipeline.params import ACTIVATIONS, ModelParams
from fer_pipeline.training.models import ACTIVATION_MODULES, build_model, make_activation

from .builders import small_model


def mp(family="mlp", activation="relu", hidden=(16,), channels=(4, 8), dropout=0.0, batch_norm=False) -> ModelParams:
    """Small model params."""
    return small_model(family, activation, hidden, channels, 2, dropout, batch_norm)


@pytest.mark.parametrize("family", ["mlp", "cnn"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_logits_shape(family, activation):
    """Every family x activation maps a (B,1,48,48) batch to (B,7) finite logits."""
    torch.manual_seed(0)
    model = build_model(mp(family, activation)).eval()
    with torch.no_grad():
        out = model(torch.rand(3, 1, 48, 48))
    assert out.shape == (3, len(CLASSES))
    assert torch.isfinite(out).all()


def test_activation_module_types():
    """Each activation name builds the matching torch module."""
    expected = {"sigmoid": nn.Sigmoid, "softmax": nn.Softmax, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
                "tanh": nn.Tanh, "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU}
    assert set(expected) == set(ACTIVATIONS)
    for name, cls in expected.items():
        assert type(make_activation(name)) is cls
    assert make_activation("leaky_relu").negative_slope == 0.01


def test_activation_modules_match_params():
    """Every activation name params.yaml allows has a module, and no module exists for a name it does not allow."""
    assert set(ACTIVATION_MODULES) == set(ACTIVATIONS)


@pytest.mark.parametrize("hidden", [(16,), (16, 8), (32, 16, 8)])
def test_hidden_list_sets_depth(hidden):
    """An MLP with k hidden widths has k+1 Linear layers with those widths, 2304 in and 7 out."""
    model = build_model(mp(hidden=hidden))
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == len(hidden) + 1
    assert [lin.in_features for lin in linears] == [48 * 48, *hidden]
    assert [lin.out_features for lin in linears] == [*hidden, len(CLASSES)]


def test_cnn_channels_set_blocks():
    """A CNN has two 3x3 convs and one 2x2 max-pool per channel width, ending in a Linear to 7 classes."""
    model = build_model(mp("cnn", channels=(4, 8, 16)))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 4, 8, 8, 16, 16]
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 3
    head = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(head) == 1 and head[0].in_features == 16 and head[0].out_features == 7


def test_softmax_normalizes_across_hidden_units():
    """With activation=softmax each sample's hidden-layer output is a distribution over the hidden units."""
    torch.manual_seed(0)
    model = build_model(mp(activation="softmax", hidden=(16, 8)))
    with torch.no_grad():
        h1 = model[:3](torch.rand(5, 1, 48, 48))  # Flatten, Linear, Softmax
        h2 = model[:5](torch.rand(5, 1, 48, 48))
    for h, width in ((h1, 16), (h2, 8)):
        assert h.shape == (5, width)
        assert torch.allclose(h.sum(dim=1), torch.ones(5), atol=1e-6)
        assert (h >= 0).all()


@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_dropout_only_when_positive(family):
    """Dropout layers exist (with the given p) only when dropout > 0: one per hidden layer / conv block."""
    without = build_model(mp(family, dropout=0.0, hidden=(16, 8), channels=(4, 8)))
    assert not any(isinstance(m, nn.Dropout) for m in without.modules())
    with_ = build_model(mp(family, dropout=0.3, hidden=(16, 8), channels=(4, 8)))
    drops = [m for m in with_.modules() if isinstance(m, nn.Dropout)]
    assert len(drops) == 2 and all(d.p == 0.3 for d in drops)


def test_n_classes_argument():
    """build_model honours a different number of output classes."""
    model = build_model(mp(), n_classes=3)
    assert model(torch.rand(2, 1, 48, 48)).shape == (2, 3)


@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_batch_norm_layers_only_when_asked(family):
    """model.batch_norm adds one batch-norm layer per hidden layer (mlp) or conv (cnn), and none otherwise."""
    kind = torch.nn.BatchNorm1d if family == "mlp" else torch.nn.BatchNorm2d
    expected = 2 if family == "mlp" else 4  # hidden (16, 8) -> 2 layers; channels (4, 8) -> 2 blocks x 2 convs
    with_bn = build_model(mp(family, hidden=(16, 8), batch_norm=True))
    without = build_model(mp(family, hidden=(16, 8), batch_norm=False))
    assert sum(isinstance(m, kind) for m in with_bn.modules()) == expected
    assert not any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)) for m in without.modules())
    assert build_model(mp(family, batch_norm=True)).eval()(torch.zeros(2, 1, 48, 48)).shape == (2, 7)


@pytest.mark.parametrize("convs", [1, 2, 3])
def test_cnn_convs_per_width(convs):
    """model.convs sets how many 3x3 convolutions each cnn width has (then one 2x2 max-pool per width)."""
    m = build_model(dataclasses.replace(mp("cnn", channels=(4, 8, 16)), convs=convs))
    assert sum(isinstance(x, nn.Conv2d) for x in m.modules()) == 3 * convs
    assert sum(isinstance(x, nn.MaxPool2d) for x in m.modules()) == 3
