"""fer_pipeline.analysis.variants: every axis value sets exactly the model/train fields it names, typed once, and each
run has one name; a study run is composed from study.base, study.train and the axes, with the chosen, axis and
--set values applied; a configuration's seeds are its family's (the CNNs' fewer)."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
import yaml

from fer_pipeline import FerError
from fer_pipeline.analysis.variants import (
    BASE,
    FACTORIAL,
    Variant,
    axis_settings,
    check_no_copies,
    depth_grid,
    factorial_variants,
    full_settings,
    model_and_train,
    read_axis,
    seeds_key,
    study_families,
    study_variants,
    variant_seeds,
)
from fer_pipeline.axes import CARRIED, FACTORS
from fer_pipeline.params import ParamsFile, PresetsParams, StudyParams, to_dict

from .conftest import ROOT

PARAMS = ROOT / "params.yaml"
RAW = yaml.safe_load(PARAMS.read_text())


@pytest.mark.parametrize("name", sorted(RAW["presets"]["architectures"]))
def test_every_architecture_preset_yields_its_model(name):
    """--axis architecture=<name> gives the base model with exactly the preset's family, widths, dropout and
    batch norm (e.g. mlp3_bn -> batch_norm true, hidden (512, 256, 128)); the activation stays the base's."""
    preset = RAW["presets"]["architectures"][name]
    model, train = model_and_train(ParamsFile(PARAMS), "study", [f"architecture={name}"], None, ["train.seed=0"])
    assert to_dict(model) == {**preset, "activation": RAW["study"]["base"]["activation"]}
    assert train.optimizer == RAW["presets"]["optimizers"][RAW["study"]["base"]["optimizer"]]["optimizer"]


def test_mlp3_bn_example():
    """The issue's example, spelled out: mlp3_bn is a batch-normed MLP of widths 512, 256, 128."""
    model, _ = model_and_train(ParamsFile(PARAMS), "study", ["architecture=mlp3_bn"], None, ["train.seed=0"])
    assert (model.family, model.hidden, model.batch_norm) == ("mlp", (512, 256, 128), True)


@pytest.mark.parametrize("name", sorted(RAW["presets"]["optimizers"]))
def test_every_optimizer_preset_yields_its_train_params(name):
    """--axis optimizer=<name> gives the base train params with the preset's optimizer, lr, momentum, nesterov
    and weight decay, and nothing else changed."""
    preset = RAW["presets"]["optimizers"][name]
    _, train = model_and_train(ParamsFile(PARAMS), "study", [f"optimizer={name}"], None, ["train.seed=0"])
    assert {k: getattr(train, k) for k in preset} == preset
    assert train.batch_size == RAW["study"]["base"]["batch_size"] and train.max_epochs == RAW["study"]["train"]["max_epochs"]


def test_axis_values_are_typed_and_set_one_field():
    """activation, batch_size (an integer) and imbalance set one field; depth repeats the first base width."""
    pf = ParamsFile(PARAMS)
    model, train = model_and_train(pf, "study", ["activation=tanh", "batch_size=64", "imbalance=class_weights"], None,
                                   ["train.seed=2"])
    assert (model.activation, train.batch_size, train.imbalance, train.seed) == ("tanh", 64, "class_weights", 2)
    model, _ = model_and_train(pf, "study", ["depth=3"], None, ["train.seed=0"])
    assert model.hidden == (RAW["presets"]["architectures"][RAW["study"]["base"]["architecture"]]["hidden"][0],) * 3


def test_swept_key_is_never_read():
    """A matrix stage's swept field comes from the command line: its key in params.yaml is not read."""
    pf = ParamsFile(PARAMS)
    model_and_train(pf, "study", ["activation=tanh"], None, ["train.seed=1"])
    assert "study.base.activation" not in pf.read and "study.base.architecture" in pf.read
    pf = ParamsFile(PARAMS)
    model_and_train(pf, "study", ["depth=3", "activation=tanh"], None, ["train.seed=1"])
    assert "study.base.activation" not in pf.read and "study.train.max_epochs" in pf.read


def test_bad_axis_values_are_refused():
    """An unknown axis, an undefined preset, a bad value and a --set outside model/train are one-line errors."""
    pf = ParamsFile(PARAMS)
    with pytest.raises(FerError, match="unknown axis"):
        model_and_train(pf, "study", ["colour=red"], None, [])
    with pytest.raises(FerError, match=r"missing key 'presets\.optimizers\.lion'"):
        model_and_train(pf, "study", ["optimizer=lion"], None, [])
    with pytest.raises(FerError, match=r"'model\.activation' is 'swish'"):
        model_and_train(pf, "study", ["activation=swish"], None, ["train.seed=0"])
    with pytest.raises(FerError, match=r"expected model\.KEY=VALUE or train\.KEY=VALUE"):
        model_and_train(pf, "study", [], None, ["data.path=x"])
    with pytest.raises(FerError, match="need --from study"):
        model_and_train(pf, "", ["activation=tanh"], None, [])


def test_choice_then_axis_then_set():
    """The chosen settings apply first, then --axis, then --set (a later value wins)."""
    pf = ParamsFile(PARAMS)
    choice = full_settings({"activation": "sigmoid", "batch_size": "128"}, pf.section(StudyParams, "study"),
                           pf.section(PresetsParams, "presets"))
    model, train = model_and_train(ParamsFile(PARAMS), "study", ["batch_size=64"], choice, ["train.batch_size=16", "train.seed=0"])
    assert (model.activation, train.batch_size) == ("sigmoid", 16)


def test_read_axis_matches_axis_settings_from_typed_presets():
    """The train stage (one preset read from params) and choose (typed presets) get the same settings for a value."""
    pf = ParamsFile(PARAMS)
    presets = pf.section(PresetsParams, "presets")
    for axis, value, preset in (("optimizer", "rmsprop", presets.optimizers["rmsprop"]),
                                ("architecture", "cnn", presets.architectures["cnn"]), ("activation", "tanh", None)):
        assert read_axis(pf, axis, value) == axis_settings(axis, value, preset)


def test_run_names():
    """A variant's folder is study/<name> (factorial/<index> for the factorial's own points); each seed's run is
    <folder>/s<seed> inside it, so one study stage owns one folder per output kind."""
    variants = study_variants(ParamsFile(PARAMS).section(StudyParams, "study"))
    assert variants["batch_size"][1].run(2) == f"study/batchsize-{RAW['study']['batch_sizes'][0]}/s2"
    assert Variant("factorial-3", FACTORIAL, (("activation", "tanh"),)).run(1) == "factorial/3/s1"
    assert Variant("depth-3-relu", "depth_activation", ()).run(1) == "study/depth-3-relu/s1"


def test_full_settings_fill_base_picks_with_the_base():
    """full_settings sets every factor's fields: a chosen value's, and the base's own for "base", so a run built
    from it reads no factor from params whatever choose picked."""
    pf = ParamsFile(PARAMS)
    study, presets = pf.section(StudyParams, "study"), pf.section(PresetsParams, "presets")
    s = full_settings({f: "base" for f in FACTORS} | {"optimizer": "rmsprop", "batch_size": "64"}, study, presets)
    assert s["model"] == {**vars(presets.architectures[study.base.architecture]), "activation": study.base.activation}
    assert s["train"] == {"batch_size": 64, "imbalance": study.base.imbalance, **vars(presets.optimizers["rmsprop"])}


def test_factorial_variants_reuse_existing_runs():
    """The factorial's family is its points in order: the chosen architecture's axis run first (the all-base point),
    then factorial-<index> under factorial/<index>; nothing without a factorial; the carried factors are every
    factor but the architecture."""
    choice = {FACTORIAL: {"architecture": "cnn", "factors": ["activation"], "points": [
        {"levels": {"activation": "base"}, "reuses": True}, {"levels": {"activation": "tanh"}, "reuses": False}]}}
    family = factorial_variants(choice)
    assert [v.run(0) for v in family] == ["study/architecture-cnn/s0", "factorial/1/s0"]
    assert [v.value for v in family] == ["cnn", "cnn-tanh"]
    assert factorial_variants({FACTORIAL: None}) == []
    assert set(CARRIED) == set(FACTORS) - {"architecture"}


def test_every_axis_family_starts_with_the_base_control():
    """Each one-factor axis compares its values with the base, listed first; the depth grid's depth-1 row is the
    activation axis's runs and the base (for the base's own activation), then the deeper depths."""
    study = ParamsFile(PARAMS).section(StudyParams, "study")
    families = study_variants(study)
    for axis in ("activation", "batch_size", "optimizer", "architecture", "imbalance"):
        assert families[axis][0] is BASE and BASE not in families[axis][1:]
    grid = depth_grid(study, families["depth_activation"])
    base_act = RAW["study"]["base"]["activation"]
    for a in study.depth_activations:
        assert grid[(1, a)] is (BASE if a == base_act else next(v for v in families["activation"] if v.value == a))
    assert len(grid) == (1 + len(study.depths)) * len(study.depth_activations)


@pytest.mark.parametrize("architecture", [*RAW["study"]["architectures"], "base"])
def test_nothing_is_trained_twice_in_dvc_yaml(architecture, tmp_path, monkeypatch):
    """Every training run dvc.yaml defines (each study stage's configuration with each of its seeds, as the stage
    itself resolves them from params.yaml) is unique: no configuration is trained twice for one seed, the
    factorial's points and the integrated model (one of them) included. The factorial depends on choose's picks,
    so it is checked with every architecture chosen (the base's too, where one-pick points are axis runs), each
    factor's first value picked."""
    from dvc.repo import Repo

    from .test_stage_contract import crafted_choice, module_of

    with Repo(str(ROOT)) as repo:
        stages = [s for s in repo.index.stages if module_of(s.cmd)[0] == "stages.study"]
    study = importlib.import_module("stages.study")
    s = RAW["study"]
    crafted_choice(tmp_path, {"activation": s["activations"][0], "batch_size": str(s["batch_sizes"][0]),
                              "imbalance": s["imbalances"][0], "optimizer": s["optimizers"][0], "architecture": architecture})
    monkeypatch.chdir(tmp_path)
    seen: dict[tuple, str] = {}
    trained = 0
    for stage in stages:
        args = study.parse(module_of(stage.cmd)[1])
        seeds, runs, *_ = study.read_params(args, ParamsFile(PARAMS))
        assert len(runs) in (0, len(seeds))
        trained += len(runs)
        for seed, (mp, tp) in zip(seeds, runs, strict=False):
            key = (repr(to_dict(mp)), repr(to_dict(tp)))
            assert key not in seen, f"{stage.addressing} seed {seed} trains what {seen.get(key)} trains"
            seen[key] = stage.addressing
    assert len(seen) == trained


def test_factorial_points_that_exist_train_nothing(tmp_path, monkeypatch):
    """A factorial stage trains its point only when the point is new: with one pick at the CNN the design is 2
    points, so point 1 trains (on the CNN's seeds) and points 2..7 train nothing; at the base's architecture a
    one-pick point is the axis run and trains nothing either."""
    from .test_stage_contract import crafted_choice

    study = importlib.import_module("stages.study")
    s = RAW["study"]
    picks = {"activation": "base", "batch_size": str(s["batch_sizes"][0]), "imbalance": "base", "optimizer": "base",
             "architecture": "cnn"}
    crafted_choice(tmp_path, picks)
    monkeypatch.chdir(tmp_path)
    argv = ["--from", "study", "--choice", "data/choose/choice.json"]
    def trains(i: int) -> tuple[int, str]:
        seeds, runs, _, _, why = study.read_params(study.parse([*argv, "--variant", f"factorial/{i}", "--point", str(i)]),
                                                   ParamsFile(PARAMS))
        return len(runs), why
    assert trains(1) == (len(s["cnn_seeds"]), "")
    assert all(trains(i)[0] == 0 and "none with index" in trains(i)[1] for i in range(2, 8))
    crafted_choice(tmp_path, {**picks, "architecture": "base"})
    assert trains(1)[0] == 0 and "existing axis run" in trains(1)[1]


def test_factorial_point_is_the_architecture_with_its_picks(tmp_path, monkeypatch):
    """--point I trains the chosen architecture with point I's picks and every other factor at the base's value
    (point 1 of the four-pick half fraction: activation's and batch size's picks)."""
    from .test_stage_contract import crafted_choice

    study = importlib.import_module("stages.study")
    crafted_choice(tmp_path, {"activation": "tanh", "batch_size": "64", "imbalance": "weighted_sampler",
                              "optimizer": "rmsprop", "architecture": "cnn"})
    monkeypatch.chdir(tmp_path)
    args = study.parse(["--from", "study", "--variant", "factorial/1", "--choice", "data/choose/choice.json",
                        "--point", "1"])
    mp, tp = study.read_params(args, ParamsFile(PARAMS))[1][0]
    base = RAW["study"]["base"]
    cnn, adam = RAW["presets"]["architectures"]["cnn"], RAW["presets"]["optimizers"][base["optimizer"]]
    assert to_dict(mp) == {**cnn, "activation": "tanh"}
    assert (tp.optimizer, tp.lr, tp.batch_size, tp.imbalance) == (adam["optimizer"], adam["lr"], 64, base["imbalance"])


@pytest.mark.parametrize(("key", "value", "match"), [
    ("activations", ["relu", "tanh"], r"lists 'relu', which trains the base itself \(study.base.activation\)"),
    ("optimizers", ["adam"], "lists 'adam', which trains the base itself"),
    ("architectures", ["mlp1"], "lists 'mlp1', which trains the base itself"),
    ("batch_sizes", [32, 64], "lists 32, which trains the base itself"),
    ("depths", [1, 3], "lists 1, the base's own depth"),
    ("depth_activations", ["gelu"], "lists 'gelu', which is neither in study.activations"),
    ("base", {"architecture": "mlp3"}, "must be an MLP of 1 hidden layer"),
])
def test_copies_of_the_base_are_refused(key, value, match):
    """An axis value that is the base's own (relu, adam, mlp1, batch 32 ...), the base's depth, a depth activation
    with no depth-1 run, or a base the depth grid cannot start from is a one-line error naming the key, before
    anything is trained twice."""
    pf = ParamsFile(PARAMS)
    study = pf.section(StudyParams, "study")
    bad = (dataclasses.replace(study, base=dataclasses.replace(study.base, **value), architectures=("mlp1",))
           if key == "base" else dataclasses.replace(study, **{key: tuple(value) if isinstance(value, list) else value}))
    with pytest.raises(FerError, match=match):
        check_no_copies(bad, pf.section(PresetsParams, "presets"), "params.yaml")


def test_the_default_study_has_no_copies():
    """The shipped params pass the no-copies check (the dvc.yaml test above proves the same from the stages)."""
    pf = ParamsFile(PARAMS)
    check_no_copies(pf.section(StudyParams, "study"), pf.section(PresetsParams, "presets"), "params.yaml")


def test_a_configurations_seeds_are_its_familys():
    """One rule for a variant's seeds: a CNN configuration (the CNN axis run, a factorial point at the CNN) trains on
    study.cnn_seeds, every MLP configuration on study.seeds; the study stage picks them by the same rule."""
    pf = ParamsFile(PARAMS)
    study, presets = pf.section(StudyParams, "study"), pf.section(PresetsParams, "presets")
    choice = {FACTORIAL: {"architecture": "cnn", "factors": ["activation"], "points": [
        {"levels": {"activation": "base"}, "reuses": True}, {"levels": {"activation": "tanh"}, "reuses": False}]}}
    families = study_families(study, choice)
    assert set(families) == {*study_variants(study), FACTORIAL} and len(families[FACTORIAL]) == 2
    for v in (v for vs in families.values() for v in vs):
        cnn = dict(v.settings).get("architecture") == "cnn"
        assert variant_seeds(v, study, presets) == (study.cnn_seeds if cnn else study.seeds)
    assert seeds_key("cnn") == "cnn_seeds" and seeds_key("mlp") == "seeds"
    assert set(study.cnn_seeds) < set(study.seeds)
