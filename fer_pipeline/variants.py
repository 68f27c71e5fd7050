"""The study's variants: which model/train fields an axis value sets, and the names of variants and runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fer_pipeline import FerError
from fer_pipeline.params import (
    ArchitecturePreset,
    ModelParams,
    OptimizerPreset,
    ParamsFile,
    PresetsParams,
    StudyParams,
    TrainParams,
    parse_override,
)

# Factors the choose stage picks for the integrated model, in the order their settings apply
# (an architecture sets the widths first; the other factors then change one thing each).
FACTORS = ("architecture", "activation", "batch_size", "optimizer", "imbalance")

Settings = dict[str, dict[str, Any]]  # {"model": {field: value}, "train": {field: value}}


def axis_settings(axis: str, value: Any, preset: Any = None, width: int | None = None) -> Settings:
    """The model/train fields one axis value sets: optimizer and architecture values set their preset's
    fields; a depth repeats the base's first hidden `width` that many times."""
    if axis == "activation":
        return {"model": {"activation": value}}
    if axis == "batch_size":
        return {"train": {"batch_size": value}}
    if axis == "imbalance":
        return {"train": {"imbalance": value}}
    if axis in ("optimizer", "architecture"):
        return {"train" if axis == "optimizer" else "model": vars(preset)}
    if axis == "depth":
        return {"model": {"hidden": [width] * int(value)}}
    raise FerError(f"--axis {axis}={value}: unknown axis; known: {', '.join((*FACTORS, 'depth'))}")


def read_axis(pf: ParamsFile, axis: str, value: Any, start: str) -> Settings:
    """axis_settings for `--axis AXIS=VALUE`, reading from params only the preset or width it needs."""
    preset = (pf.section(OptimizerPreset, f"presets.optimizers.{value}") if axis == "optimizer" else
              pf.section(ArchitecturePreset, f"presets.architectures.{value}") if axis == "architecture" else None)
    width = pf.field(ModelParams, f"{start}.model.hidden")[0] if axis == "depth" else None
    return axis_settings(axis, value, preset, width)


def merge(*parts: Settings) -> Settings:
    """Settings applied in order (a later field wins)."""
    out: Settings = {"model": {}, "train": {}}
    for part in parts:
        for section, fields in part.items():
            out[section].update(fields)
    return out


def chosen_settings(chosen: dict[str, Any], presets: PresetsParams) -> Settings:
    """The model/train settings of one value per factor (FACTORS order), optimizer and architecture names looked
    up in the typed presets: what choose writes to choice.json for the integrated runs."""
    named = {"optimizer": presets.optimizers, "architecture": presets.architectures}
    return merge(*(axis_settings(f, chosen[f], named.get(f, {}).get(chosen[f])) for f in FACTORS if f in chosen))


def model_and_train(pf: ParamsFile, start: str, axes: list[str], choice: Settings | None,
                    sets: list[str]) -> tuple[ModelParams, TrainParams]:
    """The model and train params of one run: <start>.model/<start>.train (model/train when start is ''),
    with the chosen settings, then each --axis AXIS=VALUE, then each --set model.K=V / train.K=V applied.

    Fields that these set are never read from params.yaml (a matrix stage does not declare the key it sweeps)."""
    parts: list[Settings] = [choice] if choice else []
    for text in axes:
        axis, value = parse_override(text)
        parts.append(read_axis(pf, axis, value, start))
    for text in sets:
        key, value = parse_override(text)
        section, _, name = key.partition(".")
        if section not in ("model", "train") or not name:
            raise FerError(f"--set {text}: expected model.KEY=VALUE or train.KEY=VALUE")
        parts.append({section: {name: value}})
    settings = merge(*parts)
    prefix = f"{start}." if start else ""
    return (pf.section(ModelParams, f"{prefix}model", settings["model"]),
            pf.section(TrainParams, f"{prefix}train", settings["train"]))


@dataclass(frozen=True)
class Variant:
    """One configuration of the study: its name, axis, and the axis settings it applies to the base."""

    name: str
    axis: str
    settings: tuple[tuple[str, str], ...]  # (axis, value) pairs

    def run(self, seed: int) -> str:
        """The run name of this variant with one seed: its folder under data/train, metrics/train, ...

        Axis runs live under study/, the integrated model's under integrated/: choose reads all of
        metrics/train/study, and the integrated runs it leads to must not be inside it."""
        root = "integrated" if self.axis == "integrated" else "study"
        return f"{root}/{self.name}-s{seed}"


def study_variants(study: StudyParams) -> dict[str, list[Variant]]:
    """Every axis's variants in params order, plus the base and the integrated model."""
    one = {
        "activation": study.activations, "batch_size": study.batch_sizes, "optimizer": study.optimizers,
        "architecture": study.architectures, "imbalance": study.imbalances,
    }
    axes = {
        axis: [Variant(f"{axis.replace('_', '')}-{v}", axis, ((axis, str(v)),)) for v in values]
        for axis, values in one.items()
    }
    axes["depth_activation"] = [
        Variant(f"depth-{d}-{a}", "depth_activation", (("depth", str(d)), ("activation", a)))
        for d in study.depths for a in study.depth_activations
    ]
    axes["base"] = [Variant("base", "base", ())]
    axes["integrated"] = [Variant("integrated", "integrated", ())]
    return axes
