"""params.yaml -> typed, frozen, validated objects; unknown keys and bad values are rejected."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from fer_pipeline import FerError
from fer_pipeline.axes import AXES

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
class MlpPreset:
    """An MLP architecture: its hidden widths (one Linear each), dropout and batch norm."""

    family: Literal["mlp"]
    hidden: tuple[int, ...] = _widths()
    dropout: float = _dropout()
    batch_norm: bool


@dataclass(frozen=True)
class CnnPreset:
    """A CNN architecture: its conv widths (one 2x2-pooled block each), convolutions per width, dropout, batch norm."""

    family: Literal["cnn"]
    channels: tuple[int, ...] = _widths()
    convs: int = _convs()
    dropout: float = _dropout()
    batch_norm: bool


@dataclass(frozen=True)
class MlpParams(MlpPreset):
    """An MLP model: its architecture and activation (model.family: mlp)."""

    activation: Literal[ACTIVATIONS]  # type: ignore[valid-type]


@dataclass(frozen=True)
class CnnParams(CnnPreset):
    """A CNN model: its architecture and activation (model.family: cnn)."""

    activation: Literal[ACTIVATIONS]  # type: ignore[valid-type]


# A model section, or an architecture preset, has exactly the fields of its family: which class reads it is
# decided by its `family` key (build_section).
ModelParams = MlpParams | CnnParams
ArchitecturePreset = MlpPreset | CnnPreset


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
    imbalance: Literal[IMBALANCES]  # type: ignore[valid-type]
    augment: Literal["none", "flip_shift"]
    label_smoothing: float = _check(lambda v: 0 <= v < 1, "a number in [0, 1)")
    max_minutes: float = _check(lambda v: v >= 0, "a number >= 0 (0 = no time limit)")


@dataclass(frozen=True)
class RuntimeParams:
    """Where runs execute, not what they train: shared by the baseline, the recipe and the study."""

    device: Literal["auto", "cpu", "cuda", "mps"]
    threads: int = _check(lambda v: v >= 0, "an integer >= 0 (0 = torch's default)")
    processes: int = _check(_positive, "an integer >= 1 (data-parallel processes on this machine, via torchrun)")


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
class OptimizerPreset(_NesterovRule):
    """One value of the optimizer axis: the optimizer with its own lr (one lr does not suit all)."""

    optimizer: Literal[OPTIMIZERS]  # type: ignore[valid-type]
    lr: float = _lr()
    momentum: float = _momentum()
    nesterov: bool
    weight_decay: float = _weight_decay()


@dataclass(frozen=True)
class PresetsParams:
    optimizers: dict[str, OptimizerPreset]
    architectures: dict[str, ArchitecturePreset]


def _rule_of(cls: type, name: str) -> tuple[Any, Any, str]:
    """(type, rule, text) of one field of `cls` (rule None when the type alone checks it)."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return typing.get_type_hints(cls)[name], f.metadata.get("rule"), f.metadata.get("text", "")


def _axis_value(axis: Any) -> tuple[Any, Any, str]:
    """(type, rule, text) of one value of a study axis: a value axis's values are its field's, a preset axis's
    are names in its presets section, a depth is a number of hidden layers."""
    if axis.kind == "value":
        section, name = axis.field.split(".")
        return _rule_of(MlpParams if section == "model" else TrainParams, name)
    if axis.kind == "preset":
        return str, None, f"a name in presets.{axis.preset}"
    return int, _positive, "an integer >= 1 (hidden layers)"


def _list_field(tp: Any, rule: Any, text: str) -> tuple[Any, Any]:
    """A study list of values of type `tp`, each satisfying `rule`: non-empty and without repeats."""
    check = (lambda v: _nonempty_unique(v) and all(rule(x) for x in v)) if rule else _nonempty_unique
    return tuple[tp, ...], _check(check, _LIST + (f", each {text}" if text else ""))


def _axis_sets_train(axis: Any) -> tuple[str, ...]:
    """The train fields every value of a factor sets (the keys study.train does not hold)."""
    if axis.kind == "value":
        return (axis.field.split(".")[1],) if axis.section == "train" else ()
    if axis.kind == "preset" and axis.section == "train":
        return tuple(f.name for f in dataclasses.fields(typing.get_args(typing.get_type_hints(PresetsParams)[axis.preset])[1]))
    return ()


def _make(name: str, doc: str, fields: list[tuple[str, Any, Any]]) -> type:
    """A frozen dataclass of this module, built from (name, type, field) triples."""
    cls = dataclasses.make_dataclass(name, fields, frozen=True)
    cls.__doc__, cls.__module__ = doc, __name__
    return cls


def _study_classes(axes: tuple[Any, ...]) -> tuple[type, type, type]:
    """StudyBaseParams, StudyTrainParams and StudyParams, derived from the axis registry (fer_pipeline.axes):
    study.base holds one value per factor, study.train the train fields no factor sets (and no seed: study.seeds
    sets it), and study one list per axis (plus a depth grid's activations)."""
    values = {a.name: _axis_value(a) for a in axes}
    base = _make("StudyBaseParams", "The study's control: one value per factor, in the axes' vocabulary.",
                 [(a.name, values[a.name][0], _check(*values[a.name][1:]) if values[a.name][1] else field())
                  for a in axes if a.factor])
    taken = {n for a in axes if a.factor for n in _axis_sets_train(a)} | {"seed"}
    train = _make("StudyTrainParams", "The training settings every study run shares: the train keys no factor sets.",
                  [(f.name, typing.get_type_hints(TrainParams)[f.name], field(metadata=f.metadata))
                   for f in dataclasses.fields(TrainParams) if f.name not in taken])
    lists: list[tuple[str, Any, Any]] = []
    for a in axes:
        lists.append((a.values, *_list_field(*values[a.name])))
        if a.grid_with:
            lists.append((a.grid_with, *_list_field(*_rule_of(MlpParams, "activation"))))
    study = _make("StudyParams", "The study: its seeds, base, shared training settings and one list per axis, "
                  "every value a variant trained once per seed.",
                  [("seeds", *_list_field(int, None, "")), ("cnn_seeds", *_list_field(int, None, "")),
                   ("replicate_seeds", tuple[int, ...], _check(lambda v: len(set(v)) == len(v), "a list without repeats")),
                   ("base", base, field()), ("train", train, field()), *lists,
                   ("bootstrap", int, _check(lambda v: v >= 100, "an integer >= 100 (bootstrap resamples of the test images)")),
                   ("detect", float, _check(lambda v: 0 < v < 1, "a number between 0 and 1 (a difference in macro recall)"))])
    study.problem = _study_problem
    return base, train, study


def _study_problem(study: Any) -> tuple[str, str] | None:
    """The CNNs' seeds must be some of the MLPs' (a CNN pairs with an MLP on the seeds they share); the replication's
    must be fresh (seeds the study did not train)."""
    if not set(study.cnn_seeds) <= set(study.seeds):
        return "cnn_seeds", f"a subset of study.seeds ({', '.join(map(str, study.seeds))}): a CNN pairs with the MLPs by seed"
    if set(study.replicate_seeds) & set(study.seeds):
        return "replicate_seeds", f"seeds the study did not train (none of study.seeds: {', '.join(map(str, study.seeds))})"
    return None


StudyBaseParams, StudyTrainParams, StudyParams = _study_classes(AXES)


@dataclass(frozen=True)
class RecipeParams:
    """A model + train pair that a stage starts from instead of the top-level model/train (the cnn recipe),
    kept apart so that `dvc exp run -S model.activation=...` on the baseline does not rerun it."""

    model: ModelParams
    train: TrainParams


@dataclass(frozen=True)
class Params:
    data: DataParams
    preprocess: PreprocessParams
    split: SplitParams
    model: ModelParams
    train: TrainParams
    runtime: RuntimeParams
    evaluate: EvaluateParams
    plot: PlotParams
    study: StudyParams  # type: ignore[valid-type]
    presets: PresetsParams
    cnn: RecipeParams


_SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _families(tp: Any) -> dict[str, type]:
    """family -> class for a union of per-family sections (ModelParams, ArchitecturePreset); empty otherwise."""
    if not isinstance(tp, types.UnionType):
        return {}
    return {typing.get_args(typing.get_type_hints(c)["family"])[0]: c for c in typing.get_args(tp)}


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
    if dataclasses.is_dataclass(tp) or _families(tp):
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
    if read is not None and not (dataclasses.is_dataclass(tp) or _families(tp) or typing.get_origin(tp) is dict):
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
    dotted = (prefix + ".") if prefix else ""
    families = _families(cls)
    if families:  # a model section or an architecture preset: the class of its family
        family = (overrides or {}).get("family", raw.get("family"))
        if family not in families:
            raise FerError(f"{where}: key '{dotted}family' is {family!r}; expected one of {', '.join(families)}")
        cls = families[family]
    names = [f.name for f in dataclasses.fields(cls)]
    overrides, nested = dict(overrides or {}), {}
    for k in [k for k in overrides if "." in k]:  # `synthetic.seed`: a key of a nested section
        head, rest = k.split(".", 1)
        nested.setdefault(head, {})[rest] = overrides.pop(k)
    unknown = sorted(set(raw) - set(names)) or sorted((set(overrides) | set(nested)) - set(names))
    if unknown:
        of = f" (family {family})" if families else ""
        raise FerError(f"{where}: unknown key '{dotted}{unknown[0]}'; allowed keys here{of}: {', '.join(names)}")
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
        """One field of a `cls` section, by its dotted key (e.g. runtime.device), typed and checked."""
        return build_field(cls, key.rsplit(".", 1)[-1], self._node(key), key, self.where, self.read)


def check_study_presets(study: StudyParams, presets: PresetsParams, where: str) -> None:  # type: ignore[valid-type]
    """Every name on a preset axis (and the base's value of it) must be defined in its presets section."""
    for axis in (a for a in AXES if a.kind == "preset"):
        defined = getattr(presets, axis.preset)
        named = [(f"study.{axis.values}", v) for v in getattr(study, axis.values)]
        if axis.factor:
            named.insert(0, (f"study.base.{axis.name}", getattr(study.base, axis.name)))
        unknown = [(key, v) for key, v in named if v not in defined]
        if unknown:
            key, v = unknown[0]
            raise FerError(f"{where}: {key} names {v!r}, which presets.{axis.preset} does not define; "
                           f"defined: {', '.join(defined)}")


START_SECTIONS = ("study", "cnn")  # --from: the study (study.base and study.train), or the cnn recipe


def load_params(path: str | Path = "params.yaml", overrides: list[tuple[str, Any]] | None = None,
                start: str = "") -> Params:
    """The whole params.yaml, typed and checked (for tools and tests; stages read only their sections).

    start: `cnn` takes model/train from cnn.model/cnn.train (the recipe); a study run's are composed from the
    axes (variants.model_and_train).
    overrides: (dotted key, raw value) pairs, e.g. ("model.activation", "tanh").
    """
    pf = ParamsFile(path)
    if start and start != "cnn":
        raise FerError(f"--from {start}: unknown section; allowed: cnn")
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
