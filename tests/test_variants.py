"""fer_pipeline.variants: every axis value sets exactly the model/train fields it names, typed once, and each
run has one name; the train stage's params are the section's, with the chosen, axis and --set values applied."""

from __future__ import annotations

import importlib

import pytest
import yaml

from fer_pipeline import FerError
from fer_pipeline.params import ModelParams, ParamsFile, PresetsParams, StudyParams, TrainParams
from fer_pipeline.variants import (
    BASE,
    Variant,
    axis_settings,
    check_no_copies,
    depth_grid,
    effective,
    model_and_train,
    read_axis,
    study_variants,
)

from .conftest import ROOT

PARAMS = ROOT / "params.yaml"
RAW = yaml.safe_load(PARAMS.read_text())


@pytest.mark.parametrize("name", sorted(RAW["presets"]["architectures"]))
def test_every_architecture_preset_yields_its_model(name):
    """--axis architecture=<name> gives the base model with exactly the preset's family, widths, dropout and
    batch norm (e.g. mlp3_bn -> batch_norm true, hidden (512, 256, 128)); the activation stays the base's."""
    preset = RAW["presets"]["architectures"][name]
    model, train = model_and_train(ParamsFile(PARAMS), "base", [f"architecture={name}"], None, [])
    assert model.family == preset["family"] and model.hidden == tuple(preset["hidden"])
    assert model.channels == tuple(preset["channels"]) and model.dropout == preset["dropout"]
    assert model.batch_norm is preset["batch_norm"] and model.activation == RAW["base"]["model"]["activation"]
    assert train.optimizer == RAW["base"]["train"]["optimizer"]


def test_mlp3_bn_example():
    """The issue's example, spelled out: mlp3_bn is a batch-normed MLP of widths 512, 256, 128."""
    model, _ = model_and_train(ParamsFile(PARAMS), "base", ["architecture=mlp3_bn"], None, [])
    assert (model.family, model.hidden, model.batch_norm) == ("mlp", (512, 256, 128), True)


@pytest.mark.parametrize("name", sorted(RAW["presets"]["optimizers"]))
def test_every_optimizer_preset_yields_its_train_params(name):
    """--axis optimizer=<name> gives the base train params with the preset's optimizer, lr, momentum, nesterov
    and weight decay, and nothing else changed."""
    preset = RAW["presets"]["optimizers"][name]
    _, train = model_and_train(ParamsFile(PARAMS), "base", [f"optimizer={name}"], None, [])
    assert {k: getattr(train, k) for k in preset} == preset
    assert train.batch_size == RAW["base"]["train"]["batch_size"] and train.max_epochs == RAW["base"]["train"]["max_epochs"]


def test_axis_values_are_typed_and_set_one_field():
    """activation, batch_size (an integer) and imbalance set one field; depth repeats the first base width."""
    pf = ParamsFile(PARAMS)
    model, train = model_and_train(pf, "base", ["activation=tanh", "batch_size=64", "imbalance=class_weights"], None,
                                   ["train.seed=2"])
    assert (model.activation, train.batch_size, train.imbalance, train.seed) == ("tanh", 64, "class_weights", 2)
    model, _ = model_and_train(pf, "base", ["depth=3"], None, [])
    assert model.hidden == (RAW["base"]["model"]["hidden"][0],) * 3
    model, train = model_and_train(pf, "base", ["uncapped=tanh"], None, [])
    assert (model.activation, train.max_epochs) == ("tanh", RAW["study"]["uncapped_max_epochs"])


def test_swept_key_is_never_read():
    """A matrix stage's swept field comes from the command line: its key in params.yaml is not read."""
    pf = ParamsFile(PARAMS)
    model_and_train(pf, "base", ["activation=tanh"], None, ["train.seed=1"])
    assert "base.model.activation" not in pf.read and "base.train.seed" not in pf.read
    assert "base.model.hidden" in pf.read


def test_bad_axis_values_are_refused():
    """An unknown axis, an undefined preset, a bad value and a --set outside model/train are one-line errors."""
    pf = ParamsFile(PARAMS)
    with pytest.raises(FerError, match="unknown axis"):
        model_and_train(pf, "base", ["colour=red"], None, [])
    with pytest.raises(FerError, match=r"missing key 'presets\.optimizers\.lion'"):
        model_and_train(pf, "base", ["optimizer=lion"], None, [])
    with pytest.raises(FerError, match=r"'base\.model\.activation' is 'swish'"):
        model_and_train(pf, "base", ["activation=swish"], None, [])
    with pytest.raises(FerError, match=r"expected model\.KEY=VALUE or train\.KEY=VALUE"):
        model_and_train(pf, "base", [], None, ["data.path=x"])


def test_choice_then_axis_then_set():
    """The chosen settings apply first, then --axis, then --set (a later value wins)."""
    choice = {"model": {"activation": "sigmoid"}, "train": {"batch_size": 128}}
    model, train = model_and_train(ParamsFile(PARAMS), "base", ["batch_size=64"], choice, ["train.batch_size=16"])
    assert (model.activation, train.batch_size) == ("sigmoid", 16)


def test_read_axis_matches_axis_settings_from_typed_presets():
    """The train stage (one preset read from params) and choose (typed presets) get the same settings for a value."""
    pf = ParamsFile(PARAMS)
    presets = pf.section(PresetsParams, "presets")
    for axis, value, preset in (("optimizer", "rmsprop", presets.optimizers["rmsprop"]),
                                ("architecture", "cnn", presets.architectures["cnn"]), ("activation", "tanh", None)):
        assert read_axis(pf, axis, value, "base") == axis_settings(axis, value, preset)


def test_run_names():
    """A variant's folder is study/<name> (integrated/<name> for the integrated model); each seed's run is
    <folder>/s<seed> inside it, so one study stage owns one folder per output kind."""
    variants = study_variants(ParamsFile(PARAMS).section(StudyParams, "study"))
    assert variants["batch_size"][1].run(2) == f"study/batchsize-{RAW['study']['batch_sizes'][0]}/s2"
    assert variants["integrated"][0].run(100) == "integrated/integrated/s100"
    assert Variant("depth-3-relu", "depth_activation", ()).run(1) == "study/depth-3-relu/s1"


def test_every_axis_family_starts_with_the_base_control():
    """Each one-factor axis compares its values with the base, listed first; the depth grid's depth-1 row is the
    activation axis's runs and the base (for the base's own activation), then the deeper depths."""
    study = ParamsFile(PARAMS).section(StudyParams, "study")
    families = study_variants(study)
    for axis in ("activation", "batch_size", "optimizer", "architecture", "imbalance"):
        assert families[axis][0] is BASE and BASE not in families[axis][1:]
    grid = depth_grid(study, families["depth_activation"])
    base_act = RAW["base"]["model"]["activation"]
    for a in study.depth_activations:
        assert grid[(1, a)] is (BASE if a == base_act else next(v for v in families["activation"] if v.value == a))
    assert len(grid) == (1 + len(study.depths)) * len(study.depth_activations)


def test_nothing_is_trained_twice_in_dvc_yaml():
    """Every training run dvc.yaml defines (each study stage's configuration with each of its seeds, as the stage
    itself resolves them from params.yaml) is unique: no configuration is trained twice for one seed."""
    from dvc.repo import Repo

    from .test_stage_contract import module_of

    with Repo(str(ROOT)) as repo:
        stages = [s for s in repo.index.stages if module_of(s.cmd)[0] == "stages.study"]
    study = importlib.import_module("stages.study")
    seen: dict[tuple, str] = {}
    for stage in stages:
        args = study.parse(module_of(stage.cmd)[1])
        args.choice = None  # the integrated model's choice is only known after choose; its seeds are its own
        seeds, runs, _ = study.read_params(args, ParamsFile(PARAMS))
        for seed, (mp, tp) in zip(seeds, runs, strict=True):
            key = (effective(mp, tp), seed)
            if args.seeds == "seeds":
                assert key not in seen, f"{stage.addressing} seed {seed} trains what {seen.get(key)} trains"
                seen[key] = stage.addressing
            else:
                assert seed not in RAW["study"]["seeds"], "the integrated model's confirmation seeds must be fresh"
    assert len(seen) == sum("confirm_seeds" not in s.cmd for s in stages) * len(RAW["study"]["seeds"])


@pytest.mark.parametrize(("key", "value", "match"), [
    ("activations", ["relu", "tanh"], "lists 'relu', which trains the base itself"),
    ("optimizers", ["adam"], "lists 'adam', which trains the base itself"),
    ("architectures", ["mlp1"], "lists 'mlp1', which trains the base itself"),
    ("batch_sizes", [32, 64], "lists 32, which trains the base itself"),
    ("depths", [1, 3], "lists 1, the base's own depth"),
    ("depth_activations", ["gelu"], "lists 'gelu', which is neither in study.activations"),
    ("uncapped_max_epochs", 15, r"study.uncapped_max_epochs \(15\) must exceed base.train.max_epochs"),
])
def test_copies_of_the_base_are_refused(key, value, match):
    """An axis value that reproduces the base (relu, adam, mlp1, batch 32 ...), the base's depth, or a depth
    activation with no depth-1 run is a one-line error naming the key, before anything is trained twice."""
    pf = ParamsFile(PARAMS)
    study = pf.section(StudyParams, "study")
    bad = StudyParams(**{**vars(study), key: tuple(value) if isinstance(value, list) else value})
    with pytest.raises(FerError, match=match):
        check_no_copies(bad, pf.section(PresetsParams, "presets"), pf.section(ModelParams, "base.model"),
                        pf.section(TrainParams, "base.train"), "params.yaml")


def test_the_default_study_has_no_copies():
    """The shipped params pass the no-copies check (the dvc.yaml test above proves the same from the stages)."""
    pf = ParamsFile(PARAMS)
    check_no_copies(pf.section(StudyParams, "study"), pf.section(PresetsParams, "presets"),
                    pf.section(ModelParams, "base.model"), pf.section(TrainParams, "base.train"), "params.yaml")
