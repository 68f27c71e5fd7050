"""params.yaml -> typed, frozen, validated objects; unknown keys and bad values are rejected."""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from fer_pipeline import FerError

ACTIVATIONS = ("sigmoid", "softmax", "relu", "leaky_relu", "tanh", "elu", "gelu", "silu")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
IMBALANCES = ("none", "class_weights", "weighted_sampler")


def _check(rule: typing.Callable[[Any], bool], text: str) -> Any:
    """A dataclass field whose value must satisfy `rule` (described by `text`)."""
    return field(metadata={"rule": rule, "text": text})


def _positive(v: Any) -> bool:
    return v > 0


@dataclass(frozen=True)
class SyntheticParams:
    train_size: int = _check(_positive, "an integer >= 1")
    test_size: int = _check(_positive, "an integer >= 1")
    seed: int
    duplicate_fraction: float = _check(lambda v: 0 <= v <= 0.5, "a number in [0, 0.5]")


@dataclass(frozen=True)
class DataParams:
    source: Literal["auto", "archive", "folder", "csv", "kaggle", "synthetic"]
    path: str = _check(lambda v: v.strip() != "", "a non-empty path (data/raw by default)")
    synthetic: SyntheticParams


@dataclass(frozen=True)
class PreprocessParams:
    normalize: Literal["unit", "standardize"]


@dataclass(frozen=True)
class SplitParams:
    valid_fraction: float = _check(lambda v: 0 < v < 1, "a number strictly between 0 and 1")
    seed: int


@dataclass(frozen=True)
class ModelParams:
    family: Literal["mlp", "cnn"]
    activation: Literal[ACTIVATIONS]  # type: ignore[valid-type]
    hidden: tuple[int, ...] = _check(lambda v: len(v) >= 1 and all(h >= 1 for h in v), "a non-empty list of integers >= 1")
    channels: tuple[int, ...] = _check(lambda v: len(v) >= 1 and all(h >= 1 for h in v), "a non-empty list of integers >= 1")
    dropout: float = _check(lambda v: 0 <= v < 1, "a number in [0, 1)")
    batch_norm: bool


@dataclass(frozen=True)
class TrainParams:
    batch_size: int = _check(_positive, "an integer >= 1")
    optimizer: Literal[OPTIMIZERS]  # type: ignore[valid-type]
    lr: float = _check(_positive, "a number > 0")
    momentum: float = _check(lambda v: 0 <= v < 1, "a number in [0, 1)")
    weight_decay: float = _check(lambda v: v >= 0, "a number >= 0")
    scheduler: Literal["none", "cosine", "step", "plateau"]
    max_epochs: int = _check(_positive, "an integer >= 1")
    patience: int = _check(_positive, "an integer >= 1")
    max_steps: int = _check(lambda v: v >= 0, "an integer >= 0 (0 = no limit)")
    seed: int
    device: Literal["auto", "cpu", "cuda", "mps"]
    threads: int = _check(lambda v: v >= 0, "an integer >= 0 (0 = torch's default)")
    processes: int = _check(_positive, "an integer >= 1 (data-parallel processes on this machine, via torchrun)")
    imbalance: Literal[IMBALANCES]  # type: ignore[valid-type]
    augment: Literal["none", "flip_shift"]
    label_smoothing: float = _check(lambda v: 0 <= v < 1, "a number in [0, 1)")
    max_minutes: float = _check(lambda v: v >= 0, "a number >= 0 (0 = no time limit)")


@dataclass(frozen=True)
class PlotParams:
    grid_images: int = _check(_positive, "an integer >= 1")


def _nonempty_unique(v: tuple) -> bool:
    return len(v) >= 1 and len(set(v)) == len(v)


_LIST = "a non-empty list without repeats"


@dataclass(frozen=True)
class StudyParams:
    """The study's axes: one list per factor, every value a variant trained once per seed."""

    seeds: tuple[int, ...] = _check(_nonempty_unique, _LIST)
    activations: tuple[Literal[ACTIVATIONS], ...] = _check(_nonempty_unique, _LIST)  # type: ignore[valid-type]
    batch_sizes: tuple[int, ...] = _check(lambda v: _nonempty_unique(v) and min(v) >= 1, _LIST + " of integers >= 1")
    optimizers: tuple[str, ...] = _check(_nonempty_unique, _LIST + " of names in presets.optimizers")
    architectures: tuple[str, ...] = _check(_nonempty_unique, _LIST + " of names in presets.architectures")
    imbalances: tuple[Literal[IMBALANCES], ...] = _check(_nonempty_unique, _LIST)  # type: ignore[valid-type]
    depths: tuple[int, ...] = _check(lambda v: _nonempty_unique(v) and min(v) >= 1, _LIST + " of integers >= 1")
    depth_activations: tuple[Literal[ACTIVATIONS], ...] = _check(_nonempty_unique, _LIST)  # type: ignore[valid-type]
    bootstrap: int = _check(lambda v: v >= 100, "an integer >= 100 (bootstrap resamples of the test images)")


@dataclass(frozen=True)
class OptimizerPreset:
    """One value of the optimizer axis: the optimizer with its own lr (one lr does not suit all)."""

    optimizer: Literal[OPTIMIZERS]  # type: ignore[valid-type]
    lr: float = _check(_positive, "a number > 0")
    momentum: float = _check(lambda v: 0 <= v < 1, "a number in [0, 1)")
    weight_decay: float = _check(lambda v: v >= 0, "a number >= 0")


@dataclass(frozen=True)
class ArchitecturePreset:
    """One value of the architecture axis: the model's family, widths, dropout and batch norm."""

    family: Literal["mlp", "cnn"]
    hidden: tuple[int, ...] = _check(lambda v: len(v) >= 1 and all(h >= 1 for h in v), "a non-empty list of integers >= 1")
    channels: tuple[int, ...] = _check(lambda v: len(v) >= 1 and all(h >= 1 for h in v), "a non-empty list of integers >= 1")
    dropout: float = _check(lambda v: 0 <= v < 1, "a number in [0, 1)")
    batch_norm: bool


@dataclass(frozen=True)
class PresetsParams:
    optimizers: dict[str, OptimizerPreset]
    architectures: dict[str, ArchitecturePreset]


@dataclass(frozen=True)
class BaseParams:
    """A model + train pair that a stage starts from instead of the top-level model/train: the study's
    shared base, or the cnn recipe. Kept apart so that `dvc exp run -S model.activation=...` on the
    baseline reruns neither the study nor the recipe."""

    model: ModelParams
    train: TrainParams


@dataclass(frozen=True)
class Params:
    data: DataParams
    preprocess: PreprocessParams
    split: SplitParams
    model: ModelParams
    train: TrainParams
    plot: PlotParams
    study: StudyParams
    presets: PresetsParams
    base: BaseParams
    cnn: BaseParams


_SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _type_name(tp: Any) -> str:
    """A short human name for a field type, for error messages."""
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(map(str, typing.get_args(tp)))
    if typing.get_origin(tp) is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if typing.get_origin(tp) is dict:
        return "a section of named entries"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _convert(value: Any, tp: Any, key: str, where: str) -> Any:
    """Check `value` against type `tp`, converting lists to tuples and sections to dataclasses."""
    bad = FerError(f"{where}: key '{key}' is {value!r}; expected {_type_name(tp)}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise FerError(f"{where}: key '{key}' must be a section (mapping), got {value!r}")
        return build_section(tp, value, key, where)
    origin = typing.get_origin(tp)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise bad
        return value
    if origin is dict:
        if not isinstance(value, dict) or not value:
            raise FerError(f"{where}: key '{key}' must be a non-empty section of named entries")
        return {str(k): _convert(v, typing.get_args(tp)[1], f"{key}.{k}", where) for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list):
            raise bad
        return tuple(_convert(v, typing.get_args(tp)[0], f"{key}[{i}]", where) for i, v in enumerate(value))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str) and _SCIENTIFIC.fullmatch(value):
        # YAML 1.1 reads `1e-3` (no dot) as a string; users mean the number.
        return float(value)
    if tp in (int, float, str, bool) and (type(value) is not tp):
        raise bad
    return value


def build_section(cls: type, raw: dict[str, Any], prefix: str, where: str) -> Any:
    """Build dataclass `cls` from `raw`, rejecting unknown/missing keys and rule violations."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    dotted = (prefix + ".") if prefix else ""
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise FerError(f"{where}: unknown key '{dotted}{unknown[0]}'; allowed keys here: {', '.join(fields)}")
    missing = [n for n in fields if n not in raw]
    if missing:
        raise FerError(f"{where}: missing key '{dotted}{missing[0]}'; add it (see the README's params table)")
    values = {}
    for name, f in fields.items():
        key = dotted + name
        value = _convert(raw[name], hints[name], key, where)
        rule = f.metadata.get("rule")
        if rule is not None and not rule(value):
            raise FerError(f"{where}: key '{key}' is {raw[name]!r}; expected {f.metadata['text']}")
        values[name] = value
    return cls(**values)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse `a.b=value` (value in YAML syntax) as used by --set."""
    if "=" not in text:
        raise FerError(f"--set {text!r}: expected KEY=VALUE, e.g. model.activation=relu")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


def apply_overrides(raw: dict[str, Any], overrides: list[tuple[str, Any]], where: str) -> dict[str, Any]:
    """Return a copy of `raw` with dotted keys replaced; a key that does not exist is an error."""
    import copy

    out = copy.deepcopy(raw)
    for key, value in overrides:
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise FerError(f"{where}: override '{key}' names no section '{p}'")
            node = node[p]
        if parts[-1] not in node:
            raise FerError(f"{where}: override '{key}' names no existing key")
        node[parts[-1]] = value
    return out


START_SECTIONS = ("base", "cnn")


def load_params(path: str | Path = "params.yaml", overrides: list[tuple[str, Any]] | None = None,
                start: str = "") -> Params:
    """Read, override and validate params.yaml; raise FerError naming the bad key.

    start: model/train begin as <start>.model/<start>.train (`base` for study runs, `cnn` for the recipe).
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise FerError(f"{where}: not found; run from the project root, where params.yaml lives")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise FerError(f"{where}: not valid YAML ({str(e).splitlines()[0]}); fix the syntax") from None
    if not isinstance(raw, dict):
        raise FerError(f"{where}: must be a mapping of sections (data, preprocess, split, model, train, plot, study)")
    if start:
        if start not in START_SECTIONS:
            raise FerError(f"--from {start}: unknown section; allowed: {', '.join(START_SECTIONS)}")
        section = raw.get(start)
        if not isinstance(section, dict) or not {"model", "train"} <= set(section):
            raise FerError(f"{where}: key '{start}' must hold a model and a train section")
        raw = {**raw, "model": section["model"], "train": section["train"]}
    raw = apply_overrides(raw, overrides or [], where)
    params = build_section(Params, raw, "", where)
    for axis, presets in (("optimizers", params.presets.optimizers), ("architectures", params.presets.architectures)):
        unknown = [v for v in getattr(params.study, axis) if v not in presets]
        if unknown:
            raise FerError(f"{where}: study.{axis} names {unknown[0]!r}, which presets.{axis} does not define; "
                           f"defined: {', '.join(presets)}")
    return params


def to_dict(params: Any) -> dict[str, Any]:
    """Plain-dict form of a params object (tuples as lists), for checkpoints and metrics files."""
    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(params))
