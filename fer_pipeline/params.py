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
TTAS = ("none", "flip")  # test-time augmentation: none, or average with the mirror image


def _check(rule: typing.Callable[[Any], bool], text: str) -> Any:
    """A dataclass field whose value must satisfy `rule` (described by `text`)."""
    return field(metadata={"rule": rule, "text": text})


def _positive(v: Any) -> bool:
    return v > 0


# Rules shared by more than one section (the model section and the architecture presets, the train
# section and the optimizer presets): each written once, as a factory (a dataclass field is per class).
def _widths() -> Any:
    return _check(lambda v: len(v) >= 1 and all(h >= 1 for h in v), "a non-empty list of integers >= 1")


def _convs() -> Any:
    return _check(lambda v: v >= 1, "an integer >= 1 (3x3 convolutions per cnn width)")


def _dropout() -> Any:
    return _check(lambda v: 0 <= v < 1, "a number in [0, 1)")


def _lr() -> Any:
    return _check(_positive, "a number > 0")


def _momentum() -> Any:
    return _check(lambda v: 0 <= v < 1, "a number in [0, 1)")


def _weight_decay() -> Any:
    return _check(lambda v: v >= 0, "a number >= 0")


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
    hidden: tuple[int, ...] = _widths()
    channels: tuple[int, ...] = _widths()
    convs: int = _convs()
    dropout: float = _dropout()
    batch_norm: bool


class _NesterovRule:
    """torch's SGD applies Nesterov momentum only when asked, and only SGD with momentum can."""

    def problem(self) -> tuple[str, str] | None:
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):  # type: ignore[attr-defined]
            return "nesterov", "false unless optimizer is sgd with momentum > 0"
        return None


@dataclass(frozen=True)
class TrainParams(_NesterovRule):
    batch_size: int = _check(_positive, "an integer >= 1")
    optimizer: Literal[OPTIMIZERS]  # type: ignore[valid-type]
    lr: float = _lr()
    momentum: float = _momentum()
    nesterov: bool
    weight_decay: float = _weight_decay()
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
class EvaluateParams:
    """How the evaluate stage predicts, the same for every model it evaluates."""

    tta: Literal[TTAS]  # type: ignore[valid-type]


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
    confirm_seeds: tuple[int, ...] = _check(_nonempty_unique, _LIST)
    activations: tuple[Literal[ACTIVATIONS], ...] = _check(_nonempty_unique, _LIST)  # type: ignore[valid-type]
    batch_sizes: tuple[int, ...] = _check(lambda v: _nonempty_unique(v) and min(v) >= 1, _LIST + " of integers >= 1")
    optimizers: tuple[str, ...] = _check(_nonempty_unique, _LIST + " of names in presets.optimizers")
    architectures: tuple[str, ...] = _check(_nonempty_unique, _LIST + " of names in presets.architectures")
    imbalances: tuple[Literal[IMBALANCES], ...] = _check(_nonempty_unique, _LIST)  # type: ignore[valid-type]
    depths: tuple[int, ...] = _check(lambda v: _nonempty_unique(v) and min(v) >= 1, _LIST + " of integers >= 1")
    depth_activations: tuple[Literal[ACTIVATIONS], ...] = _check(_nonempty_unique, _LIST)  # type: ignore[valid-type]
    uncapped_activations: tuple[Literal[ACTIVATIONS], ...] = _check(_nonempty_unique, _LIST)  # type: ignore[valid-type]
    uncapped_max_epochs: int = _check(_positive, "an integer >= 1")
    bootstrap: int = _check(lambda v: v >= 100, "an integer >= 100 (bootstrap resamples of the test images)")


@dataclass(frozen=True)
class OptimizerPreset(_NesterovRule):
    """One value of the optimizer axis: the optimizer with its own lr (one lr does not suit all)."""

    optimizer: Literal[OPTIMIZERS]  # type: ignore[valid-type]
    lr: float = _lr()
    momentum: float = _momentum()
    nesterov: bool
    weight_decay: float = _weight_decay()


@dataclass(frozen=True)
class ArchitecturePreset:
    """One value of the architecture axis: the model's family, widths, dropout and batch norm."""

    family: Literal["mlp", "cnn"]
    hidden: tuple[int, ...] = _widths()
    channels: tuple[int, ...] = _widths()
    convs: int = _convs()
    dropout: float = _dropout()
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
    evaluate: EvaluateParams
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


def _convert(value: Any, tp: Any, key: str, where: str, read: set[str] | None) -> Any:
    """Check `value` against type `tp`, converting lists to tuples and sections to dataclasses."""
    bad = FerError(f"{where}: key '{key}' is {value!r}; expected {_type_name(tp)}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise FerError(f"{where}: key '{key}' must be a section (mapping), got {value!r}")
        return build_section(tp, value, key, where, read=read)
    origin = typing.get_origin(tp)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise bad
        return value
    if origin is dict:
        if not isinstance(value, dict) or not value:
            raise FerError(f"{where}: key '{key}' must be a non-empty section of named entries")
        return {str(k): _convert(v, typing.get_args(tp)[1], f"{key}.{k}", where, read) for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise bad
        return tuple(_convert(v, typing.get_args(tp)[0], f"{key}[{i}]", where, None) for i, v in enumerate(value))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str) and _SCIENTIFIC.fullmatch(value):
        # YAML 1.1 reads `1e-3` (no dot) as a string; users mean the number.
        return float(value)
    if tp in (int, float, str, bool) and (type(value) is not tp):
        raise bad
    return value


def build_field(cls: type, name: str, value: Any, key: str, where: str, read: set[str] | None = None) -> Any:
    """One field of `cls` from its raw value: typed, then checked against the field's rule."""
    f = next((f for f in dataclasses.fields(cls) if f.name == name), None)
    if f is None:
        raise FerError(f"{where}: unknown key '{key}'; allowed keys here: {', '.join(x.name for x in dataclasses.fields(cls))}")
    tp = typing.get_type_hints(cls)[name]
    typed = _convert(value, tp, key, where, read)
    if read is not None and not (dataclasses.is_dataclass(tp) or typing.get_origin(tp) is dict):
        read.add(key)  # sections record their own leaves
    rule = f.metadata.get("rule")
    if rule is not None and not rule(typed):
        raise FerError(f"{where}: key '{key}' is {value!r}; expected {f.metadata['text']}")
    return typed


def build_section(cls: type, raw: dict[str, Any], prefix: str, where: str, overrides: dict[str, Any] | None = None,
                  read: set[str] | None = None) -> Any:
    """Build dataclass `cls` from `raw`, rejecting unknown/missing keys and rule violations.

    overrides: field name -> raw value used instead of raw's (typed and checked the same way; never read
    from raw). read: when given, collects the dotted key of every leaf value taken from raw.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    dotted = (prefix + ".") if prefix else ""
    overrides, nested = dict(overrides or {}), {}
    for k in [k for k in overrides if "." in k]:  # `synthetic.seed`: a key of a nested section
        head, rest = k.split(".", 1)
        nested.setdefault(head, {})[rest] = overrides.pop(k)
    unknown = sorted(set(raw) - set(names)) or sorted((set(overrides) | set(nested)) - set(names))
    if unknown:
        raise FerError(f"{where}: unknown key '{dotted}{unknown[0]}'; allowed keys here: {', '.join(names)}")
    missing = [n for n in names if n not in raw and n not in overrides]
    if missing:
        raise FerError(f"{where}: missing key '{dotted}{missing[0]}'; add it (see docs/pipeline.md)")
    hints = typing.get_type_hints(cls)
    for n in nested:
        if not dataclasses.is_dataclass(hints[n]) or not isinstance(raw.get(n), dict):
            raise FerError(f"{where}: override '{dotted}{n}.{next(iter(nested[n]))}' names no section '{dotted}{n}'")
    values = {n: build_field(cls, n, overrides[n], dotted + n, where) if n in overrides
              else build_section(hints[n], raw[n], dotted + n, where, nested[n], read) if n in nested
              else build_field(cls, n, raw[n], dotted + n, where, read) for n in names}
    built = cls(**values)
    problem = built.problem() if hasattr(built, "problem") else None
    if problem is not None:
        name, text = problem
        value = overrides.get(name, raw.get(name))
        raise FerError(f"{where}: key '{dotted}{name}' is {value!r}; expected {text}")
    return built


def parse_override(text: str) -> tuple[str, Any]:
    """Parse `a.b=value` (value in YAML syntax) as used by --set and --axis."""
    if "=" not in text:
        raise FerError(f"{text!r}: expected KEY=VALUE, e.g. model.activation=relu")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


class ParamsFile:
    """params.yaml as one stage reads it: only the sections the stage asks for are typed and checked, and
    every dotted key it reads is recorded in `read`, so that a test can prove dvc.yaml declares exactly
    the params each stage reads (tests/test_stage_contract.py)."""

    def __init__(self, path: str | Path = "params.yaml") -> None:
        self.where = str(path)
        path = Path(path)
        if not path.is_file():
            raise FerError(f"{self.where}: not found; run from the project root, where params.yaml lives")
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise FerError(f"{self.where}: not valid YAML ({str(e).splitlines()[0]}); fix the syntax") from None
        if not isinstance(raw, dict):
            raise FerError(f"{self.where}: must be a mapping of sections (data, preprocess, split, model, train, ...)")
        self.raw = raw
        self.read: set[str] = set()

    def _node(self, key: str) -> Any:
        node: Any = self.raw
        for i, part in enumerate(key.split(".")):
            if not isinstance(node, dict) or part not in node:
                raise FerError(f"{self.where}: missing key '{'.'.join(key.split('.')[:i + 1])}'; add it (see docs/pipeline.md)")
            node = node[part]
        return node

    def section(self, cls: type, key: str, overrides: dict[str, Any] | None = None) -> Any:
        """The section at dotted `key` as a `cls`; fields in `overrides` come from there instead (and are not read)."""
        node = self._node(key)
        if not isinstance(node, dict):
            raise FerError(f"{self.where}: key '{key}' must be a section (mapping), got {node!r}")
        return build_section(cls, node, key, self.where, overrides, self.read)

    def field(self, cls: type, key: str) -> Any:
        """One field of a `cls` section, by its dotted key (e.g. base.train.device), typed and checked."""
        return build_field(cls, key.rsplit(".", 1)[-1], self._node(key), key, self.where, self.read)


def check_study_presets(study: StudyParams, presets: PresetsParams, where: str) -> None:
    """Every name on the optimizer and architecture axes must be defined in presets."""
    for axis, defined in (("optimizers", presets.optimizers), ("architectures", presets.architectures)):
        unknown = [v for v in getattr(study, axis) if v not in defined]
        if unknown:
            raise FerError(f"{where}: study.{axis} names {unknown[0]!r}, which presets.{axis} does not define; "
                           f"defined: {', '.join(defined)}")


START_SECTIONS = ("base", "cnn")


def load_params(path: str | Path = "params.yaml", overrides: list[tuple[str, Any]] | None = None,
                start: str = "") -> Params:
    """The whole params.yaml, typed and checked (for tools and tests; stages read only their sections).

    start: model/train are taken from <start>.model/<start>.train (`base` for the study, `cnn` for the recipe).
    overrides: (dotted key, raw value) pairs, e.g. ("model.activation", "tanh").
    """
    pf = ParamsFile(path)
    if start and start not in START_SECTIONS:
        raise FerError(f"--from {start}: unknown section; allowed: {', '.join(START_SECTIONS)}")
    by_section: dict[str, dict[str, Any]] = {}
    for key, value in overrides or []:
        section, _, name = key.partition(".")
        by_section.setdefault(section, {})[name] = value
    sections = {}
    for f in dataclasses.fields(Params):
        source = f"{start}.{f.name}" if start and f.name in ("model", "train") else f.name
        cls = typing.get_type_hints(Params)[f.name]
        sections[f.name] = pf.section(cls, source, by_section.pop(f.name, {}))
    if by_section:
        raise FerError(f"{pf.where}: override '{next(iter(by_section))}' names no section")
    allowed = [f.name for f in dataclasses.fields(Params)]
    unknown = sorted(set(pf.raw) - set(allowed))
    if unknown:
        raise FerError(f"{pf.where}: unknown key '{unknown[0]}'; allowed keys here: {', '.join(allowed)}")
    params = Params(**sections)
    check_study_presets(params.study, params.presets, pf.where)
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
