"""The study's variants: which model/train fields an axis value sets, how a study run's model and train are
composed from the axes, and the names, families and seeds of variants and runs (all from fer_pipeline.axes)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from fer_pipeline import FerError, paths
from fer_pipeline.axes import AXES, CARRIED, FACTORS, Axis, by_name, replaced
from fer_pipeline.params import (
    ArchitecturePreset,
    ModelParams,
    ParamsFile,
    PresetsParams,
    StudyBaseParams,
    StudyParams,
    StudyTrainParams,
    TrainParams,
    build_section,
    parse_override,
    to_dict,
)

__all__ = ["CARRIED", "FACTORS"]

Settings = dict[str, dict[str, Any]]  # {"model": {field: value}, "train": {field: value}}


def axis_of(name: str, axes: tuple[Axis, ...] = AXES) -> Axis:
    """The registered axis of this name; an unknown one is an error naming the known ones."""
    known = by_name(axes)
    if name not in known:
        raise FerError(f"--axis {name}: unknown axis; known: {', '.join(known)}")
    return known[name]


def preset_class(axis: Axis) -> type:
    """The class of one entry of presets.<axis.preset>."""
    return typing.get_args(typing.get_type_hints(PresetsParams)[axis.preset])[1]


def axis_settings(axis: str, value: Any, preset: Any = None, width: int | None = None) -> Settings:
    """The model/train fields one axis value sets (by the axis's kind, fer_pipeline.axes): a value axis sets its
    field; a preset axis its preset's fields; a depth repeats the base architecture's first hidden `width` that
    many times."""
    a = axis_of(axis)
    if a.kind == "value":
        section, name = a.field.split(".")
        return {section: {name: value}}
    if a.kind == "preset":
        return {a.section: vars(preset)}
    return {"model": {"hidden": [width] * int(value)}}


def read_axis(pf: ParamsFile, axis: str, value: Any) -> Settings:
    """axis_settings for `--axis AXIS=VALUE`, reading from params only the preset or width it needs."""
    a = axis_of(axis)
    preset = pf.section(preset_class(a), f"presets.{a.preset}.{value}") if a.kind == "preset" else None
    width = None
    if a.kind == "depth":
        arch = pf.field(StudyBaseParams, "study.base.architecture")
        base = pf.section(ArchitecturePreset, f"presets.architectures.{arch}")
        if base.family != "mlp":
            raise FerError(f"{pf.where}: --axis depth needs an MLP base (study.base.architecture is {arch}, a {base.family})")
        width = base.hidden[0]
    return axis_settings(a.name, value, preset, width)


def merge(*parts: Settings) -> Settings:
    """Settings applied in order (a later field wins)."""
    out: Settings = {"model": {}, "train": {}}
    for part in parts:
        for section, fields in part.items():
            out[section].update(fields)
    return out


def typed_value(factor: str, value: str, study: StudyParams) -> Any:  # type: ignore[valid-type]
    """A factor's value as params types it, from its name in a run or choice ("base": study.base's own)."""
    if value == "base":
        return getattr(study.base, factor)
    a = axis_of(factor)
    listed = [v for v in getattr(study, a.values) if str(v) == str(value)]
    if not listed:
        raise FerError(f"{factor}={value}: not a value of study.{a.values} ({', '.join(map(str, getattr(study, a.values)))})")
    return listed[0]


def factor_settings(factor: str, value: str, study: StudyParams, presets: PresetsParams) -> Settings:  # type: ignore[valid-type]
    """The fields one factor's value sets: "base" is study.base's own; batch sizes come as strings from run names."""
    a, typed = axis_of(factor), typed_value(factor, value, study)
    return axis_settings(factor, typed, getattr(presets, a.preset)[typed] if a.kind == "preset" else None)


def full_settings(chosen: dict[str, str], study: StudyParams, presets: PresetsParams) -> Settings:  # type: ignore[valid-type]
    """Every factor's fields (FACTORS order), the chosen value's or the base's own where none or "base" is chosen:
    a run built from it reads no factor from params, whatever was chosen (so its stage declares none)."""
    return merge(*(factor_settings(f, chosen.get(f, "base"), study, presets) for f in FACTORS))


def _sets(sets: list[str]) -> Settings:
    """The fields of each --set model.K=V / train.K=V, in order."""
    parts: list[Settings] = []
    for text in sets:
        key, value = parse_override(text)
        section, _, name = key.partition(".")
        if section not in ("model", "train") or not name:
            raise FerError(f"--set {text}: expected model.KEY=VALUE or train.KEY=VALUE")
        parts.append({section: {name: value}})
    return merge(*parts)


def model_and_train(pf: ParamsFile, start: str, axes: list[str], choice: Settings | None,
                    sets: list[str]) -> tuple[ModelParams, TrainParams]:
    """The model and train params of one run: model/train (cnn.model/cnn.train when start is cnn) with each
    --set model.K=V / train.K=V applied; or, when start is study, composed from the axes: each factor's value in
    study.base (or the chosen settings), then each --axis AXIS=VALUE, then each --set, over study.train.

    Fields that these set are never read from params.yaml (a matrix stage does not declare the key it sweeps)."""
    if start != "study":
        if axes or choice:
            raise FerError("--axis and --choice compose a study run: they need --from study")
        settings, prefix = _sets(sets), f"{start}." if start else ""
        return (pf.section(ModelParams, f"{prefix}model", settings["model"]),
                pf.section(TrainParams, f"{prefix}train", settings["train"]))
    given = [parse_override(text) for text in axes]
    skip = {f for name, _ in given for f in replaced(axis_of(name))}
    parts = [choice] if choice else [read_axis(pf, f, pf.field(StudyBaseParams, f"study.base.{f}"))
                                     for f in FACTORS if f not in skip]
    settings = merge(*parts, *(read_axis(pf, name, value) for name, value in given), _sets(sets))
    shared = {f.name for f in dataclasses.fields(StudyTrainParams)}
    common = pf.section(StudyTrainParams, "study.train", {k: v for k, v in settings["train"].items() if k in shared})
    return (build_section(ModelParams, settings["model"], "model", pf.where),
            build_section(TrainParams, {**vars(common), **settings["train"]}, "train", pf.where))


def run_name(variant: str, seed: int) -> str:
    """The run of a variant with one seed: its folder under data/train, metrics/train and data/evaluate. A study
    stage trains every seed of one variant, so its outputs are the variant's folders."""
    return f"{variant}/s{seed}"


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
        """The variant's folder: axis runs under study/, the factorial's own points under factorial/<index>
        (choose reads all of metrics/train/study, and the runs it leads to must not be inside it)."""
        if self.axis == FACTORIAL:
            return f"{paths.FACTORIAL_RUNS}/{self.name.rsplit('-', 1)[1]}"
        return f"{paths.STUDY_RUNS}/{self.name}"

    def run(self, seed: int) -> str:
        """This variant's run with one seed (run_name)."""
        return run_name(self.path, seed)

    @property
    def value(self) -> str:
        """Its value on its own axis ("base" for the control): the label choose and the report use."""
        return "base" if self.axis == "base" else "-".join(v for _, v in self.settings)


FACTORIAL = "factorial"  # the axis of the factorial's own points (analysis.factorial), trained by study_factorial
BASE = Variant("base", "base", ())
BASE_DEPTH = 1  # the base MLP's hidden layers: the depth grid's first row is the base and the activation axis
GRIDS = tuple(a.family for a in AXES if a.kind == "depth")  # families compared by interaction contrasts, not a control


def study_variants(study: StudyParams, axes: tuple[Axis, ...] = AXES) -> dict[str, list[Variant]]:  # type: ignore[valid-type]
    """Every comparison family in study order (fer_pipeline.axes), control first: each factor's axis is [base, its
    values]; a depth axis is the grid (depth, activation) over BASE_DEPTH and its depths, whose depth-1 row is the
    base or an activation-axis run (a grid activation missing from study.activations is the base's own); the
    base is a family of one."""
    families: dict[str, list[Variant]] = {}
    for a in axes:
        values = getattr(study, a.values)
        if a.factor:
            families[a.family] = [BASE, *(axis_variant(a.name, str(v)) for v in values)]
        else:  # a depth grid
            by_activation = {v.value: v for v in families["activation"][1:]}
            grid = getattr(study, a.grid_with)
            families[a.family] = [by_activation.get(x, BASE) for x in grid] + [
                Variant(f"{a.name}-{d}-{x}", a.family, ((a.name, str(d)), ("activation", x))) for d in values for x in grid]
    return families | {"base": [BASE]}


def study_families(study: StudyParams, choice: dict[str, Any]) -> dict[str, list[Variant]]:  # type: ignore[valid-type]
    """The study's families and the factorial at the chosen architecture (choice.json's), as stats and the report
    compare them."""
    return study_variants(study) | {FACTORIAL: factorial_variants(choice)}


def seeds_key(family: str) -> str:
    """The study key listing the seeds of a configuration of this model family: study.cnn_seeds for a CNN (its
    runs cost several MLP runs each), study.seeds for an MLP. cnn_seeds is a subset of seeds, so a CNN pairs with
    an MLP on the seeds they share."""
    return "cnn_seeds" if family == "cnn" else "seeds"


def variant_family(variant: Variant, study: StudyParams, presets: PresetsParams) -> str:  # type: ignore[valid-type]
    """The model family of a variant: its architecture's (the base's unless it sets one)."""
    return presets.architectures[dict(variant.settings).get("architecture", study.base.architecture)].family


def variant_seeds(variant: Variant, study: StudyParams, presets: PresetsParams) -> tuple[int, ...]:  # type: ignore[valid-type]
    """The seeds a variant is trained with (seeds_key of its family)."""
    return getattr(study, seeds_key(variant_family(variant, study, presets)))


def axis_variant(axis: str, value: str) -> Variant:
    """The one-factor axis run of one value (the base for "base")."""
    return BASE if value == "base" else Variant(f"{axis.replace('_', '')}-{value}", axis, ((axis, str(value)),))


def factorial_variants(choice: dict[str, Any]) -> list[Variant]:
    """The factorial's points as variants, in choice.json's order (the all-base point first): a point that is an
    existing run (the chosen architecture's axis run, or at the base's architecture the base and each one-pick
    axis run) is that run's variant; the others are the factorial's own, factorial-<index>."""
    design = choice.get(FACTORIAL)
    if not design:
        return []
    arch = design["architecture"]
    out = []
    for i, point in enumerate(design["points"]):
        picks = tuple((f, str(v)) for f, v in point["levels"].items() if v != "base")
        if point["reuses"]:
            out.append(BASE if not picks and arch == "base" else
                       axis_variant("architecture", arch) if not picks else axis_variant(*picks[0]))
        else:
            out.append(Variant(f"{FACTORIAL}-{i}", FACTORIAL, ((("architecture", arch),) if arch != "base" else ()) + picks))
    return out


def depth_grid(study: StudyParams, family: list[Variant]) -> dict[tuple[int, str], Variant]:  # type: ignore[valid-type]
    """The depth_activation family as (depth, activation) -> variant, in study_variants' order."""
    keys = [(d, a) for d in (BASE_DEPTH, *study.depths) for a in study.depth_activations]
    return dict(zip(keys, family, strict=True))


def trained(families: dict[str, list[Variant]]) -> dict[str, Variant]:
    """Each variant once, by name: what the study stages train (a family shares its control's runs)."""
    return {v.name: v for vs in families.values() for v in vs}


def check_no_copies(study: StudyParams, presets: PresetsParams, where: str) -> None:  # type: ignore[valid-type]
    """Nothing is trained twice: no axis may list the base's own value (the base is every axis's control, trained
    once as study_base), the depth grid's base must be an MLP of BASE_DEPTH layers whose depth no depth repeats,
    and a grid activation missing from study.activations must be the base's (its depth-1 row is the base run)."""
    for a in AXES:
        if a.factor and getattr(study.base, a.name) in getattr(study, a.values):
            raise FerError(f"{where}: study.{a.values} lists {getattr(study.base, a.name)!r}, which trains the base itself "
                           f"(study.base.{a.name}); remove it (the base is every axis's control, trained once by study_base)")
    arch = presets.architectures[study.base.architecture]
    if arch.family != "mlp" or len(arch.hidden) != BASE_DEPTH:
        raise FerError(f"{where}: study.base.architecture must be an MLP of {BASE_DEPTH} hidden layer for the depth grid; "
                       f"{study.base.architecture} is {to_dict(arch)}")
    if BASE_DEPTH in study.depths:
        raise FerError(f"{where}: study.depths lists {BASE_DEPTH}, the base's own depth; remove it "
                       "(the depth grid's first row is the base and the activation axis)")
    missing = [a for a in study.depth_activations if a not in study.activations and a != study.base.activation]
    if missing:
        raise FerError(f"{where}: study.depth_activations lists {missing[0]!r}, which is neither in study.activations "
                       f"nor the base's activation ({study.base.activation}); add it to study.activations")
