"""The study's variants: which model/train fields an axis value sets, and the names of variants and runs."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
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
# The factors whose picks (made around the base MLP) the carry-over round retries on the chosen architecture.
CARRIED = FACTORS[1:]

Settings = dict[str, dict[str, Any]]  # {"model": {field: value}, "train": {field: value}}


def axis_settings(axis: str, value: Any, preset: Any = None, width: int | None = None) -> Settings:
    """The model/train fields one axis value sets: optimizer and architecture values set their preset's
    fields; a depth repeats the base's first hidden `width` that many times; an uncapped activation trains up to
    `width` epochs (study.uncapped_max_epochs), so patience alone stops it."""
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
    if axis == "uncapped":
        return {"model": {"activation": value}, "train": {"max_epochs": width}}
    raise FerError(f"--axis {axis}={value}: unknown axis; known: {', '.join((*FACTORS, 'depth', 'uncapped'))}")


def read_axis(pf: ParamsFile, axis: str, value: Any, start: str) -> Settings:
    """axis_settings for `--axis AXIS=VALUE`, reading from params only the preset or width it needs."""
    preset = (pf.section(OptimizerPreset, f"presets.optimizers.{value}") if axis == "optimizer" else
              pf.section(ArchitecturePreset, f"presets.architectures.{value}") if axis == "architecture" else None)
    width = (pf.field(ModelParams, f"{start}.model.hidden")[0] if axis == "depth" else
             pf.field(StudyParams, "study.uncapped_max_epochs") if axis == "uncapped" else None)
    return axis_settings(axis, value, preset, width)


def merge(*parts: Settings) -> Settings:
    """Settings applied in order (a later field wins)."""
    out: Settings = {"model": {}, "train": {}}
    for part in parts:
        for section, fields in part.items():
            out[section].update(fields)
    return out


def base_part(factor: str, base_model: ModelParams, base_train: TrainParams) -> Settings:
    """The fields one factor sets, at the base's own values (what "base" means for that factor)."""
    if factor == "architecture":
        return {"model": {f.name: getattr(base_model, f.name) for f in dataclass_fields(ArchitecturePreset)}}
    if factor == "optimizer":
        return {"train": {f.name: getattr(base_train, f.name) for f in dataclass_fields(OptimizerPreset)}}
    return axis_settings(factor, base_model.activation if factor == "activation" else getattr(base_train, factor))


def factor_settings(factor: str, value: str, presets: PresetsParams, base_model: ModelParams,
                    base_train: TrainParams) -> Settings:
    """The fields one factor's value sets: "base" is the base's own; batch sizes come as strings from run names."""
    if value == "base":
        return base_part(factor, base_model, base_train)
    named = {"optimizer": presets.optimizers, "architecture": presets.architectures}
    return axis_settings(factor, int(value) if factor == "batch_size" else value, named.get(factor, {}).get(value))


def full_settings(chosen: dict[str, str], presets: PresetsParams, base_model: ModelParams,
                  base_train: TrainParams) -> Settings:
    """Every factor's fields (FACTORS order), the chosen value's or the base's own where none or "base" is chosen:
    a run built from it reads no factor from params, whatever was chosen (so its stage declares none)."""
    return merge(*(factor_settings(f, chosen.get(f, "base"), presets, base_model, base_train) for f in FACTORS))


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


def run_name(variant: str, seed: int) -> str:
    """The run of a variant with one seed: its folder under data/train, metrics/train, data/evaluate and
    metrics/evaluate. A study stage trains every seed of one variant, so its outputs are the variant's folders."""
    return f"{variant}/s{seed}"


def effective(mp: ModelParams, tp: TrainParams) -> tuple[tuple[str, Any], ...]:
    """What a run trains, as comparable pairs: the model and train fields that change the trained network
    (widths the family does not use, momentum of optimizers without it, the seed and where it runs left out)."""
    model, train = vars(mp).copy(), vars(tp).copy()
    for unused in (("channels", "convs") if mp.family == "mlp" else ("hidden",)):
        model.pop(unused)
    if tp.optimizer not in ("sgd", "rmsprop"):
        train.pop("momentum")
    if tp.optimizer != "sgd":
        train.pop("nesterov")
    for where in ("seed", "device", "threads", "processes"):
        train.pop(where)
    return tuple(sorted({**{f"model.{k}": v for k, v in model.items()}, **{f"train.{k}": v for k, v in train.items()}}.items()))


@dataclass(frozen=True)
class Variant:
    """One configuration of the study, trained once per seed: its name, the axis it was trained for, and the
    axis settings it applies to the base. The base is every axis's control, so it is trained once and listed
    first in every axis's family; a depth-1 row of the depth grid is the activation axis's own run."""

    name: str
    axis: str
    settings: tuple[tuple[str, str], ...]  # (axis, value) pairs

    @property
    def path(self) -> str:
        """The variant's folder: axis runs under study/, the carry-over round's under carryover/<factor>, the
        integrated model's under integrated/ (choose reads all of metrics/train/study, and the runs it leads to
        must not be inside it)."""
        if self.axis == "carryover":
            return f"carryover/{self.settings[-1][0]}"
        return f"{'integrated' if self.axis == 'integrated' else 'study'}/{self.name}"

    def run(self, seed: int) -> str:
        """This variant's run with one seed (run_name)."""
        return run_name(self.path, seed)

    @property
    def value(self) -> str:
        """Its value on its own axis ("base" for the control): the label choose and the report use."""
        return "base" if self.axis == "base" else "-".join(v for _, v in self.settings)


BASE = Variant("base", "base", ())
BASE_DEPTH = 1  # the base MLP's hidden layers: the depth grid's first row is the base and the activation axis


def study_variants(study: StudyParams) -> dict[str, list[Variant]]:
    """Every comparison family in params order, control first: each one-factor axis is [base, its values];
    depth_activation is the grid (depth, activation) over BASE_DEPTH and study.depths, whose depth-1 row is the
    base or an activation-axis run (a depth activation missing from study.activations is the base's own); base
    and integrated are families of one."""
    one = {
        "activation": study.activations, "batch_size": study.batch_sizes, "optimizer": study.optimizers,
        "architecture": study.architectures, "imbalance": study.imbalances,
    }
    axes = {axis: [BASE, *(axis_variant(axis, str(v)) for v in values)] for axis, values in one.items()}
    by_activation = {v.value: v for v in axes["activation"][1:]}
    axes["depth_activation"] = [by_activation.get(a, BASE) for a in study.depth_activations] + [
        Variant(f"depth-{d}-{a}", "depth_activation", (("depth", str(d)), ("activation", a)))
        for d in study.depths for a in study.depth_activations
    ]
    uncapped = [Variant(f"uncapped-{a}", "uncapped", (("uncapped", a),)) for a in study.uncapped_activations]
    axes["uncapped"] = uncapped
    axes["base"] = [BASE]
    axes["integrated"] = [Variant("integrated", "integrated", ())]
    return axes


def axis_variant(axis: str, value: str) -> Variant:
    """The one-factor axis run of one value (the base for "base")."""
    return BASE if value == "base" else Variant(f"{axis.replace('_', '')}-{value}", axis, ((axis, str(value)),))


def carryover_variants(choice: dict[str, Any]) -> list[Variant]:
    """The carry-over round as a family, control first: the chosen architecture's own axis run, then that
    architecture with each carried factor's pick (choice.json's carryover; none when the architecture is the
    base's, whose factors the one-factor axes already measured)."""
    carry = choice.get("carryover")
    if not carry:
        return []
    arch = carry["architecture"]
    return [axis_variant("architecture", arch), *(
        Variant(f"carryover-{f}", "carryover", (("architecture", arch), (f, str(c["value"]))))
        for f, c in carry["factors"].items())]


def depth_grid(study: StudyParams, family: list[Variant]) -> dict[tuple[int, str], Variant]:
    """The depth_activation family as (depth, activation) -> variant, in study_variants' order."""
    keys = [(d, a) for d in (BASE_DEPTH, *study.depths) for a in study.depth_activations]
    return dict(zip(keys, family, strict=True))


def trained(families: dict[str, list[Variant]]) -> dict[str, Variant]:
    """Each variant once, by name: what the study stages train (a family shares its control's runs)."""
    return {v.name: v for vs in families.values() for v in vs}


def check_no_copies(study: StudyParams, presets: PresetsParams, base_model: ModelParams, base_train: TrainParams,
                    where: str) -> None:
    """Nothing is trained twice: no axis value may reproduce the base (it is every axis's control, trained once
    as study_base), no depth may be the base's own, and a depth activation missing from study.activations must
    be the base's (its depth-1 row is the base run)."""
    base = effective(base_model, base_train)
    named = {"optimizer": presets.optimizers, "architecture": presets.architectures}
    keys = {"activation": "activations", "batch_size": "batch_sizes", "optimizer": "optimizers",
            "architecture": "architectures", "imbalance": "imbalances"}
    for axis, key in keys.items():
        for value in getattr(study, key):
            s = merge({"model": vars(base_model), "train": vars(base_train)},
                      axis_settings(axis, value, named.get(axis, {}).get(value)))
            if effective(ModelParams(**s["model"]), TrainParams(**s["train"])) == base:
                raise FerError(f"{where}: study.{key} lists {value!r}, which trains the base itself; remove it "
                               "(the base is every axis's control, trained once by study_base)")
    if len(base_model.hidden) in study.depths:
        raise FerError(f"{where}: study.depths lists {len(base_model.hidden)}, the base's own depth; remove it "
                       "(the depth grid's first row is the base and the activation axis)")
    if base_model.family != "mlp" or len(base_model.hidden) != BASE_DEPTH:
        raise FerError(f"{where}: base.model must be an MLP of {BASE_DEPTH} hidden layer for the depth grid; "
                       f"it is {base_model.family} with hidden {list(base_model.hidden)}")
    if study.uncapped_max_epochs <= base_train.max_epochs:
        raise FerError(f"{where}: study.uncapped_max_epochs ({study.uncapped_max_epochs}) must exceed "
                       f"base.train.max_epochs ({base_train.max_epochs}), or the uncapped runs copy the activation axis")
    missing = [a for a in study.depth_activations if a not in study.activations and a != base_model.activation]
    if missing:
        raise FerError(f"{where}: study.depth_activations lists {missing[0]!r}, which is neither in study.activations "
                       f"nor the base's activation ({base_model.activation}); add it to study.activations")
