"""The two model families: the original study's MLP and a compact CNN, with any activation."""

from __future__ import annotations

from torch import nn

from fer_pipeline import CLASSES, IMAGE_SIZE
from fer_pipeline.params import ModelParams

# One module per name of params.ACTIVATIONS (the names are checked where params are read, not here again).
# softmax normalizes across hidden units, as the original study did.
ACTIVATION_MODULES = {
    "sigmoid": nn.Sigmoid,
    "softmax": lambda: nn.Softmax(dim=1),
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def make_activation(name: str) -> nn.Module:
    """The activation module for a (validated) activation name."""
    return ACTIVATION_MODULES[name]()


def mlp(model: ModelParams, n_classes: int = len(CLASSES)) -> nn.Sequential:
    """Flatten -> (Linear, [batch norm], activation, [dropout]) per hidden width -> Linear to class logits."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = IMAGE_SIZE * IMAGE_SIZE
    for h in model.hidden:
        layers.append(nn.Linear(width, h))
        if model.batch_norm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(make_activation(model.activation))
        if model.dropout > 0:
            layers.append(nn.Dropout(model.dropout))
        width = h
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def cnn(model: ModelParams, n_classes: int = len(CLASSES)) -> nn.Sequential:
    """Per width: `convs` x (3x3 conv, [batch norm], activation), then 2x2 max-pool; global average pool head."""
    layers: list[nn.Module] = []
    c_in = 1
    for c in model.channels:
        for _ in range(model.convs):
            layers.append(nn.Conv2d(c_in, c, 3, padding=1, bias=not model.batch_norm))
            if model.batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers.append(make_activation(model.activation))
            c_in = c
        layers.append(nn.MaxPool2d(2))
        if model.dropout > 0:
            layers.append(nn.Dropout(model.dropout))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, n_classes)]
    return nn.Sequential(*layers)


def build_model(model: ModelParams, n_classes: int = len(CLASSES)) -> nn.Module:
    """The model named by `model.family`."""
    return {"mlp": mlp, "cnn": cnn}[model.family](model, n_classes)
