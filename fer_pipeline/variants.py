"""The study's variants: which params an axis value changes, and the names of variants and runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fer_pipeline import FerError
from fer_pipeline.params import Params

# Factors the select stage chooses for the integrated model, in the order their overrides apply
# (an architecture sets the widths first; the other factors then change one thing each).
FACTORS = ("architecture", "activation", "batch_size", "optimizer", "imbalance")
AXES = (*FACTORS, "depth_activation")


def axis_overrides(params: Params, axis: str, value: str) -> list[tuple[str, Any]]:
    """Dotted-key overrides that turn the base params into this axis value."""
    if axis == "activation":
        return [("model.activation", value)]
    if axis == "batch_size":
        return [("train.batch_size", int(value))]
    if axis == "imbalance":
        return [("train.imbalance", value)]
    if axis == "optimizer":
        preset = params.presets.optimizers.get(value)
        section = "train"
    elif axis == "architecture":
        preset = params.presets.architectures.get(value)
        section = "model"
    elif axis == "depth":  # the depth grid repeats the base's first hidden width
        return [("model.hidden", [params.model.hidden[0]] * int(value))]
    else:
        raise FerError(f"--axis {axis}={value}: unknown axis; known: {', '.join((*FACTORS, 'depth'))}")
    if preset is None:
        raise FerError(f"--axis {axis}={value}: presets.{axis}s defines no {value!r}")
    return [(f"{section}.{k}", list(v) if isinstance(v, tuple) else v) for k, v in vars(preset).items()]


@dataclass(frozen=True)
class Variant:
    """One configuration of the study: its name, axis, and the axis settings it applies to the base."""

    name: str
    axis: str
    settings: tuple[tuple[str, str], ...]  # (axis, value) pairs

    def run(self, seed: int) -> str:
        """The name of this variant's run with one seed (its folders and metrics files)."""
        return f"{self.name}-s{seed}"


def study_variants(params: Params) -> dict[str, list[Variant]]:
    """Every axis's variants in params order, plus the base and the integrated model."""
    s = params.study
    one = {
        "activation": s.activations, "batch_size": s.batch_sizes, "optimizer": s.optimizers,
        "architecture": s.architectures, "imbalance": s.imbalances,
    }
    axes = {
        axis: [Variant(f"{axis.replace('_', '')}-{v}", axis, ((axis, str(v)),)) for v in values]
        for axis, values in one.items()
    }
    axes["depth_activation"] = [
        Variant(f"depth-{d}-{a}", "depth_activation", (("depth", str(d)), ("activation", a)))
        for d in s.depths for a in s.depth_activations
    ]
    axes["base"] = [Variant("base", "base", ())]
    axes["integrated"] = [Variant("integrated", "integrated", ())]
    return axes
