"""fer_pipeline.params: params.yaml -> frozen, validated objects; every bad value is a FerError naming its key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from fer_pipeline import FerError
from fer_pipeline.params import (
    ACTIVATIONS,
    OPTIMIZERS,
    ModelParams,
    Params,
    ParamsFile,
    RuntimeParams,
    TrainParams,
    build_section,
    load_params,
    parse_override,
    to_dict,
)

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params.yaml"


def raw_params() -> dict:
    """The repo's params.yaml as a plain dict."""
    return yaml.safe_load(PARAMS.read_text())


def write_modified(tmp_path: Path, section: str, key: str | None, value: object) -> Path:
    """params.yaml with one key (or, with key None, a whole section) replaced, written to tmp_path."""
    raw = raw_params()
    if key is None:
        raw[section] = value
    else:
        raw[section][key] = value
    out = tmp_path / "params.yaml"
    out.write_text(yaml.safe_dump(raw))
    return out


def write_without(tmp_path: Path, section: str, key: str) -> Path:
    """params.yaml with one key deleted, written to tmp_path."""
    raw = raw_params()
    del raw[section][key]
    out = tmp_path / "params.yaml"
    out.write_text(yaml.safe_dump(raw))
    return out


def test_repo_params_load_from_root(monkeypatch):
    """The repo's params.yaml loads with the default relative path when run from the repo root."""
    monkeypatch.chdir(ROOT)
    p = load_params()
    assert isinstance(p, Params)
    assert p.train.batch_size == 32
    assert p.split.valid_fraction == 0.2
    assert p.model.hidden == (256,)
    assert p.study.activations == ("sigmoid", "softmax", "leaky_relu", "tanh")  # the base is relu


def test_params_objects_are_frozen():
    """Every params section is immutable: assigning a field raises FrozenInstanceError."""
    p = load_params(PARAMS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.train.lr = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.model = None  # type: ignore[misc]


def test_lists_become_tuples():
    """List values (hidden, channels, activations) are stored as tuples, so the objects are hashable."""
    p = load_params(PARAMS)
    assert p.cnn.model.channels == tuple(raw_params()["cnn"]["model"]["channels"])
    assert isinstance(p.study.activations, tuple)
    hash(p.model)


def test_unknown_key_rejected_with_dotted_name(tmp_path):
    """A typo (train.batchsize) is rejected, and the message names the dotted key."""
    path = write_modified(tmp_path, "train", "batchsize", 32)
    with pytest.raises(FerError, match=r"unknown key 'train\.batchsize'"):
        load_params(path)


def test_unknown_top_level_section_rejected(tmp_path):
    """An unknown top-level section is rejected by name (no prefix)."""
    raw = raw_params()
    raw["trian"] = {"lr": 1}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(FerError, match=r"unknown key 'trian'"):
        load_params(path)


def test_wrong_type_string_for_int(tmp_path):
    """batch_size: "32" (a string) is rejected; the message names train.batch_size and the expected type."""
    path = write_modified(tmp_path, "train", "batch_size", "32")
    with pytest.raises(FerError, match=r"'train\.batch_size' is '32'; expected an integer"):
        load_params(path)


def test_bool_is_not_an_integer(tmp_path):
    """A YAML boolean is not accepted where an integer is expected."""
    path = write_modified(tmp_path, "train", "max_epochs", True)
    with pytest.raises(FerError, match=r"train\.max_epochs"):
        load_params(path)


def test_float_is_not_an_integer(tmp_path):
    """A float is not accepted where an integer is expected (no silent truncation)."""
    path = write_modified(tmp_path, "train", "batch_size", 32.5)
    with pytest.raises(FerError, match=r"train\.batch_size"):
        load_params(path)


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, -0.1, 1.5])
def test_valid_fraction_out_of_range(tmp_path, value):
    """split.valid_fraction must lie strictly between 0 and 1; 0 and 1 themselves are rejected."""
    path = write_modified(tmp_path, "split", "valid_fraction", value)
    with pytest.raises(FerError, match=r"'split\.valid_fraction'.*strictly between 0 and 1"):
        load_params(path)


def test_batch_size_zero_rejected(tmp_path):
    """train.batch_size 0 is out of range (must be >= 1)."""
    path = write_modified(tmp_path, "train", "batch_size", 0)
    with pytest.raises(FerError, match=r"'train\.batch_size' is 0; expected an integer >= 1"):
        load_params(path)


@pytest.mark.parametrize("value", [-0.001, 0.0])
def test_non_positive_lr_rejected(tmp_path, value):
    """train.lr must be > 0: a negative or zero learning rate is rejected."""
    path = write_modified(tmp_path, "train", "lr", value)
    with pytest.raises(FerError, match=r"'train\.lr'.*a number > 0"):
        load_params(path)


def test_unknown_activation_lists_allowed(tmp_path):
    """An unknown model.activation is rejected and the message lists every allowed activation."""
    path = write_modified(tmp_path, "model", "activation", "swish")
    with pytest.raises(FerError) as e:
        load_params(path)
    msg = str(e.value)
    assert "'model.activation' is 'swish'" in msg
    for name in ACTIVATIONS:
        assert name in msg


def test_unknown_optimizer_lists_allowed(tmp_path):
    """An unknown train.optimizer is rejected and the message lists every allowed optimizer."""
    path = write_modified(tmp_path, "train", "optimizer", "lbfgs")
    with pytest.raises(FerError) as e:
        load_params(path)
    msg = str(e.value)
    assert "'train.optimizer' is 'lbfgs'" in msg
    for name in OPTIMIZERS:
        assert name in msg


def test_unknown_activation_in_study_list(tmp_path):
    """An unknown name inside study.activations is rejected with its list index in the key."""
    path = write_modified(tmp_path, "study", "activations", ["relu", "swish"])
    with pytest.raises(FerError, match=r"'study\.activations\[1\]' is 'swish'; expected one of sigmoid"):
        load_params(path)


def test_empty_study_activations_rejected(tmp_path):
    """An empty study.activations list is rejected."""
    path = write_modified(tmp_path, "study", "activations", [])
    with pytest.raises(FerError, match=r"'study\.activations'.*non-empty"):
        load_params(path)


def test_repeated_study_activations_rejected(tmp_path):
    """study.activations may not repeat a name (it would train one variant twice)."""
    path = write_modified(tmp_path, "study", "activations", ["relu", "relu"])
    with pytest.raises(FerError, match=r"study\.activations.*without repeats"):
        load_params(path)


def test_empty_hidden_rejected(tmp_path):
    """model.hidden must be a non-empty list of positive widths."""
    path = write_modified(tmp_path, "model", "hidden", [])
    with pytest.raises(FerError, match=r"'model\.hidden'"):
        load_params(path)
    path = write_modified(tmp_path, "model", "hidden", [64, 0])
    with pytest.raises(FerError, match=r"'model\.hidden'"):
        load_params(path)


def test_missing_key_rejected(tmp_path):
    """A missing key is rejected, naming the dotted key."""
    path = write_without(tmp_path, "train", "patience")
    with pytest.raises(FerError, match=r"missing key 'train\.patience'"):
        load_params(path)


def test_missing_nested_key_rejected(tmp_path):
    """A missing key inside a nested section (data.synthetic) is named with its full dotted path."""
    raw = raw_params()
    del raw["data"]["synthetic"]["seed"]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(FerError, match=r"missing key 'data\.synthetic\.seed'"):
        load_params(path)


def test_section_not_a_mapping(tmp_path):
    """A section given as a scalar instead of a mapping is rejected by name."""
    path = write_modified(tmp_path, "train", None, 5)
    with pytest.raises(FerError, match=r"key 'train' must be a section"):
        load_params(path)


def test_non_mapping_file_rejected(tmp_path):
    """A params file whose top level is a list (or empty) is rejected with a FerError naming the file."""
    path = tmp_path / "params.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(FerError, match=r"params\.yaml: must be a mapping"):
        load_params(path)
    path.write_text("")
    with pytest.raises(FerError, match=r"must be a mapping"):
        load_params(path)


def test_invalid_yaml_rejected(tmp_path):
    """A file that is not valid YAML is a FerError naming the file, not a yaml traceback."""
    path = tmp_path / "params.yaml"
    path.write_text("train: {batch_size: 32\n  lr: [\n")
    with pytest.raises(FerError, match=r"params\.yaml: not valid YAML"):
        load_params(path)


def test_missing_file_rejected(tmp_path):
    """A params path that does not exist is a FerError that says 'not found'."""
    with pytest.raises(FerError, match=r"nope\.yaml: not found"):
        load_params(tmp_path / "nope.yaml")


def test_int_accepted_where_float_expected(tmp_path):
    """An integer is accepted for a float field (lr: 1) and stored as float."""
    path = write_modified(tmp_path, "train", "lr", 1)
    p = load_params(path)
    assert p.train.lr == 1.0
    assert type(p.train.lr) is float


def test_parse_override_yaml_values():
    """parse_override splits KEY=VALUE at the first '=' and reads the value as YAML."""
    assert parse_override("model.activation=tanh") == ("model.activation", "tanh")
    assert parse_override("train.batch_size=64") == ("train.batch_size", 64)
    assert parse_override("train.lr=0.5") == ("train.lr", 0.5)
    assert parse_override("model.hidden=[64, 32]") == ("model.hidden", [64, 32])
    assert parse_override(" data.path =a=b") == ("data.path", "a=b")


def test_parse_override_without_equals():
    """A --set argument without '=' is a FerError showing the expected KEY=VALUE form."""
    with pytest.raises(FerError, match=r"expected KEY=VALUE"):
        parse_override("model.activation")


def test_overrides_applied_by_load_params():
    """--set overrides replace the named keys and are validated like the file's own values."""
    p = load_params(PARAMS, [parse_override("model.activation=tanh"), parse_override("model.hidden=[64, 32]")])
    assert p.model.activation == "tanh"
    assert p.model.hidden == (64, 32)


def test_override_invalid_value_rejected():
    """An override with a bad value is rejected like a bad value in the file."""
    with pytest.raises(FerError, match=r"'train\.batch_size' is 0"):
        load_params(PARAMS, [parse_override("train.batch_size=0")])


def test_override_unknown_key_rejected():
    """An override naming a key that does not exist is an error (it would otherwise be silently added)."""
    with pytest.raises(FerError, match=r"unknown key 'train\.batchsize'"):
        load_params(PARAMS, [("train.batchsize", 64)])


def test_override_unknown_section_rejected():
    """An override whose path runs through a missing section (or through a scalar) is an error."""
    with pytest.raises(FerError, match=r"override 'trian' names no section"):
        load_params(PARAMS, [("trian.lr", 1.0)])
    with pytest.raises(FerError, match=r"override 'train\.lr\.value' names no section 'train\.lr'"):
        load_params(PARAMS, [("train.lr.value", 1.0)])


def test_nested_override_reaches_nested_section():
    """A dotted override (data.synthetic.seed) changes that key of the nested section and nothing else."""
    p = load_params(PARAMS, [("data.synthetic.seed", 7)])
    assert p.data.synthetic.seed == 7
    assert p.data.synthetic.train_size == raw_params()["data"]["synthetic"]["train_size"]


def test_params_file_records_exactly_the_leaves_read():
    """ParamsFile.section records the dotted key of every leaf it takes from the file, and none that an
    override supplies; field() records one key. (This is what the stage contract test relies on.)"""
    pf = ParamsFile(PARAMS)
    tp = pf.section(TrainParams, "cnn.train", {"seed": 5})
    assert tp.seed == 5
    assert pf.read == {f"cnn.train.{k}" for k in raw_params()["cnn"]["train"]} - {"cnn.train.seed"}
    pf = ParamsFile(PARAMS)
    assert pf.field(RuntimeParams, "runtime.device") == raw_params()["runtime"]["device"]
    assert pf.read == {"runtime.device"}
    pf = ParamsFile(PARAMS)
    pf.section(type(load_params(PARAMS).data), "data")
    assert pf.read == {"data.source", "data.path"} | {f"data.synthetic.{k}" for k in raw_params()["data"]["synthetic"]}


def test_params_file_missing_key_named():
    """Asking a ParamsFile for a key that is not there names the first missing part of the dotted key."""
    with pytest.raises(FerError, match=r"missing key 'presets\.optimizers\.lion'"):
        ParamsFile(PARAMS).field(TrainParams, "presets.optimizers.lion.lr")


@pytest.mark.parametrize("optimizer, momentum", [("adam", 0.9), ("sgd", 0.0)])
def test_nesterov_only_for_sgd_with_momentum(tmp_path, optimizer, momentum):
    """nesterov: true is refused unless the optimizer is sgd with momentum > 0 (SGD never turns Nesterov on its own)."""
    raw = raw_params()
    raw["train"].update(optimizer=optimizer, momentum=momentum, nesterov=True)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(FerError, match=r"key 'train\.nesterov' is True; expected false unless optimizer is sgd with momentum > 0"):
        load_params(path)
    raw["train"].update(optimizer="sgd", momentum=0.9)
    path.write_text(yaml.safe_dump(raw))
    assert load_params(path).train.nesterov is True


def test_to_dict_round_trip():
    """to_dict gives plain data (lists, not tuples) that build_section turns back into an equal object."""
    p = load_params(PARAMS, [("model.hidden", [64, 32])])
    d = to_dict(p)
    assert d["model"]["hidden"] == [64, 32]
    assert d["study"]["activations"] == list(p.study.activations)
    assert yaml.safe_load(yaml.safe_dump(d)) == d  # plain data only
    assert build_section(Params, d, "", "round-trip") == p
    assert build_section(ModelParams, to_dict(p.model), "model", "round-trip") == p.model
    assert build_section(TrainParams, to_dict(p.train), "train", "round-trip") == p.train


def test_scientific_float_without_dot_accepted(tmp_path):
    """`lr: 1e-3` (a string to YAML 1.1) is read as the number 0.001; a non-numeric string is still rejected."""
    assert load_params(write_modified(tmp_path, "train", "lr", "1e-3")).train.lr == 0.001
    with pytest.raises(FerError, match="train.lr"):
        load_params(write_modified(tmp_path, "train", "lr", "fast"))


def test_study_names_must_exist_in_presets(tmp_path):
    """A name in study.optimizers that presets.optimizers does not define is refused, listing the defined ones."""
    with pytest.raises(FerError, match=r"study\.optimizers names 'lion', which presets\.optimizers does not define; defined: .*sgd"):
        load_params(write_modified(tmp_path, "study", "optimizers", ["adam", "lion"]))


def test_presets_are_typed(tmp_path):
    """Each preset is validated like the section it overrides (an optimizer preset with lr 0 is refused)."""
    raw = raw_params()
    raw["presets"]["optimizers"]["adam"]["lr"] = 0
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(FerError, match=r"key 'presets\.optimizers\.adam\.lr' is 0; expected a number > 0"):
        load_params(path)


def test_start_section_replaces_model_and_train():
    """start='cnn' makes model/train the cnn recipe's; others are rejected (a study run is composed, not a section)."""
    cnn = load_params(ROOT / "params.yaml", start="cnn")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert cnn.model.family == raw["cnn"]["model"]["family"] and cnn.train.augment == raw["cnn"]["train"]["augment"]
    with pytest.raises(FerError, match="--from plot: unknown section; allowed: cnn"):
        load_params(ROOT / "params.yaml", start="plot")


@pytest.mark.parametrize(("section", "family", "stray"), [("model", "mlp", "channels"), ("cnn.model", "cnn", "hidden"),
                                                          ("presets.architectures.mlp1", "mlp", "convs")])
def test_a_model_has_only_its_family_fields(tmp_path, section, family, stray):
    """Each model family has only its own fields: a placeholder of the other family's (channels on an MLP, hidden
    on a CNN) is an unknown key, named with the family's allowed keys."""
    raw = raw_params()
    node = raw
    for part in section.split("."):
        node = node[part]
    node[stray] = [8] if stray != "convs" else 2
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(FerError, match=rf"unknown key '{section}\.{stray}'; allowed keys here \(family {family}\)"):
        load_params(path)


def test_runtime_is_apart_from_what_is_trained():
    """Where runs execute (device, threads, processes) is the runtime section, not a train key of any section."""
    raw = raw_params()
    assert set(raw["runtime"]) == {"device", "threads", "processes"}
    for train in (raw["train"], raw["cnn"]["train"], raw["study"]["train"]):
        assert not set(train) & set(raw["runtime"])


def test_study_base_is_in_the_axes_vocabulary(tmp_path):
    """study.base holds one value per factor (fer_pipeline.axes), and study.train exactly the train keys no factor
    sets (no seed: study.seeds sets it), so the base is no re-typed copy of model/train."""
    from fer_pipeline.axes import FACTORS

    raw = raw_params()
    assert set(raw["study"]["base"]) == set(FACTORS)
    factor_keys = {"batch_size", "imbalance", "seed", *raw["presets"]["optimizers"]["adam"]}
    assert set(raw["study"]["train"]) == set(raw["train"]) - factor_keys
    with pytest.raises(FerError, match=r"study\.base\.optimizer names 'lion'"):
        load_params(write_modified(tmp_path, "study", "base", {**raw["study"]["base"], "optimizer": "lion"}))


def test_bad_recipe_values_rejected(tmp_path):
    """The new train keys are checked like the others: unknown augment, negative max_minutes, smoothing >= 1."""
    for key, value, text in (("augment", "mixup", "expected one of none, flip_shift"),
                             ("max_minutes", -1, "expected a number >= 0"),
                             ("label_smoothing", 1.0, r"expected a number in \[0, 1\)")):
        raw = yaml.safe_load((ROOT / "params.yaml").read_text())
        raw["cnn"]["train"][key] = value
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(raw))
        with pytest.raises(FerError, match=f"key 'cnn.train.{key}' is .*; {text}"):
            load_params(path)
