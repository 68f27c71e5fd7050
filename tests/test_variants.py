"""fer_pipeline.variants: every axis value sets exactly the model/train fields it names, typed once, and each
run has one name; the train stage's params are the section's, with the chosen, axis and --set values applied."""

from __future__ import annotations

import pytest
import yaml

from fer_pipeline import FerError
from fer_pipeline.params import ParamsFile, PresetsParams, StudyParams
from fer_pipeline.variants import Variant, axis_settings, model_and_train, read_axis, study_variants

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
    """Axis runs live under study/, the integrated model's under integrated/, each named <variant>-s<seed>."""
    variants = study_variants(ParamsFile(PARAMS).section(StudyParams, "study"))
    assert variants["batch_size"][0].run(2) == f"study/batchsize-{RAW['study']['batch_sizes'][0]}-s2"
    assert variants["integrated"][0].run(0) == "integrated/integrated-s0"
    assert Variant("depth-3-relu", "depth_activation", ()).run(1) == "study/depth-3-relu-s1"
    assert len(variants["depth_activation"]) == len(RAW["study"]["depths"]) * len(RAW["study"]["depth_activations"])
