"""The pipeline's contract with DVC, derived from the code: every stage in dvc.yaml runs its module from the
workspace, declares exactly the code it imports and exactly the params it reads.

A dependency typed by hand drifts; these tests compute both sides from the code, so drift fails CI.
"""

from __future__ import annotations

import ast
import importlib
import shlex
from pathlib import Path

import pytest
import yaml
from dvc.dependency.param import ParamsDependency
from dvc.repo import Repo

from fer_pipeline.analysis.choose import factorial_design
from fer_pipeline.analysis.variants import FACTORIAL, full_settings
from fer_pipeline.io import write_json
from fer_pipeline.params import ParamsFile, PresetsParams, StudyParams

from .conftest import ROOT

CODE_DIRS = ("stages", "fer_pipeline")


@pytest.fixture(scope="module")
def stages() -> list:
    """Every stage of dvc.yaml, matrix entries expanded, as DVC resolves them."""
    with Repo(str(ROOT)) as repo:
        return list(repo.index.stages)


def module_of(cmd: str) -> tuple[str, list[str]]:
    """(module, arguments) of a stage command `python -m stages.X ARGS`."""
    words = shlex.split(cmd)
    assert words[:2] == ["python", "-m"] and words[2].startswith("stages."), f"{cmd!r} does not run a stages module"
    return words[2], words[3:]


def import_closure(module: str, root: Path = ROOT) -> set[str]:
    """Files of stages/ and fer_pipeline/ that running `python -m <module>` can import, found from the source:
    every import statement, also inside functions, counts; a package's __init__.py counts with its modules."""
    def files_for(dotted: str) -> list[Path]:
        parts = dotted.split(".")
        found = []
        for i in range(1, len(parts) + 1):
            p = root.joinpath(*parts[:i])
            found += [c for c in (p / "__init__.py", p.with_suffix(".py")) if c.is_file()]
        return found

    todo, seen = files_for(module), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            todo += [f for n in names if n.split(".")[0] in CODE_DIRS for f in files_for(n)]
    return {p.relative_to(root).as_posix() for p in seen}


def declared_code(stage) -> set[str]:
    """The stage's deps inside stages/ and fer_pipeline/."""
    return {d.def_path for d in stage.deps if not isinstance(d, ParamsDependency) and d.def_path.split("/")[0] in CODE_DIRS}


def declared_params(stage) -> set[str]:
    """The stage's param keys (all from params.yaml)."""
    keys = set()
    for d in stage.deps:
        if isinstance(d, ParamsDependency):
            assert Path(d.def_path).name == "params.yaml", f"{stage.addressing}: params from {d.def_path}"
            keys |= set(d.params)
    return keys


def leaves(node, prefix: str) -> set[str]:
    """Dotted keys of every value below `node` (a list is one value)."""
    if isinstance(node, dict):
        return {k for name, child in node.items() for k in leaves(child, f"{prefix}.{name}" if prefix else name)}
    return {prefix}


def crafted_choice(root: Path, picks: dict[str, str] | None = None) -> None:
    """choice.json as choose writes it (by default the first value of every factor: a factorial over all four
    carried picks at the first architecture, every point but the first trained), for the stages that read one."""
    pf = ParamsFile(ROOT / "params.yaml")
    study, presets = pf.section(StudyParams, "study"), pf.section(PresetsParams, "presets")
    first = picks or {"activation": study.activations[0], "batch_size": str(study.batch_sizes[0]),
                      "imbalance": study.imbalances[0], "optimizer": study.optimizers[0],
                      "architecture": study.architectures[0]}
    write_json(root / "data/choose/choice.json", {"chosen": first, "settings": full_settings(first, study, presets),
                                                  FACTORIAL: factorial_design(first, study, presets)})


def test_stages_run_as_modules(stages):
    """Every stage command is `python -m stages.<name> ...`, so it imports the workspace's own fer_pipeline
    (a script path would put stages/ first on sys.path and let the editable install's checkout win)."""
    assert len(stages) > 10
    for stage in stages:
        module, _ = module_of(stage.cmd)
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{stage.addressing}: no module {module}"


def test_code_deps_are_the_import_closure(stages):
    """Each stage declares exactly the files of stages/ and fer_pipeline/ that its module imports, directly
    or through other modules (computed from the source, not listed by hand): no more, no fewer."""
    closures: dict[str, set[str]] = {}
    for stage in stages:
        module, _ = module_of(stage.cmd)
        closure = closures.setdefault(module, import_closure(module))
        declared = declared_code(stage)
        assert not closure - declared, f"{stage.addressing} imports but does not declare {sorted(closure - declared)}"
        assert not declared - closure, f"{stage.addressing} declares but never imports {sorted(declared - closure)}"


def test_params_declared_are_params_read(stages, tmp_path, monkeypatch):
    """Running each stage's own param resolution (its read_params, with its command-line arguments) with a
    recording params file reads exactly the declared keys: every key read is declared (a key the command
    line sets, like a matrix stage's swept value, is never read), and every declared key is read in full."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    crafted_choice(tmp_path)
    monkeypatch.chdir(tmp_path)  # --choice data/choose/choice.json (data/design/design.json) resolves to the crafted one
    for stage in stages:
        module, argv = module_of(stage.cmd)
        mod = importlib.import_module(module)
        pf = ParamsFile(ROOT / "params.yaml")
        mod.read_params(mod.parse(argv), pf)
        declared = declared_params(stage)
        undeclared = {k for k in pf.read if not any(k == d or k.startswith(d + ".") for d in declared)}
        assert not undeclared, f"{stage.addressing} reads undeclared params {sorted(undeclared)}"
        for d in declared:
            node = raw
            for part in d.split("."):
                node = node[part]
            unread = leaves(node, d) - pf.read
            assert not unread, f"{stage.addressing} declares {d} but never reads {sorted(unread)}"


def test_closure_sees_lazy_imports(tmp_path):
    """The closure follows imports inside functions and through `from package import module`."""
    (tmp_path / "stages").mkdir()
    (tmp_path / "fer_pipeline").mkdir()
    (tmp_path / "stages/__init__.py").write_text("")
    (tmp_path / "stages/x.py").write_text("from fer_pipeline import a\n")
    (tmp_path / "fer_pipeline/__init__.py").write_text("")
    (tmp_path / "fer_pipeline/a.py").write_text("def f():\n    import fer_pipeline.b\n")
    (tmp_path / "fer_pipeline/b.py").write_text("import os\n")
    (tmp_path / "fer_pipeline/c.py").write_text("")
    assert import_closure("stages.x", tmp_path) == {"stages/__init__.py", "stages/x.py", "fer_pipeline/__init__.py",
                                                    "fer_pipeline/a.py", "fer_pipeline/b.py"}


def test_study_stages_are_the_registry(stages):
    """dvc.yaml's study stage groups are the axis registry's (fer_pipeline.axes): one stage study_<name> per axis,
    sweeping study.<values> (a depth grid also its activations) with --axis <name>=..., no study stage for an axis
    the registry lacks, the factorial's matrix over every point but the first of the largest design the carried
    factors make, and the variants the stages train exactly the study's (variants.study_variants); stats and
    report declare one output per family."""
    from fer_pipeline.analysis.factorial import design_size
    from fer_pipeline.analysis.variants import study_variants, trained
    from fer_pipeline.axes import AXES, CARRIED

    raw = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    runs_only = {"study_base", "study_factorial"}
    assert {s for s in raw if s.startswith("study_")} - runs_only == {f"study_{a.name}" for a in AXES}
    for a in AXES:
        stage = raw[f"study_{a.name}"]
        swept = {f"${{study.{a.values}}}", *([f"${{study.{a.grid_with}}}"] if a.grid_with else [])}
        assert set(stage["matrix"].values()) == swept, f"study_{a.name} sweeps {stage['matrix']}, not {swept}"
        item = next(k for k, v in stage["matrix"].items() if v == f"${{study.{a.values}}}")
        assert f"--axis {a.name}=${{item.{item}}}" in stage["cmd"], f"study_{a.name}: {stage['cmd']}"
    assert raw["study_factorial"]["matrix"]["point"] == list(range(1, design_size(len(CARRIED))))
    study = ParamsFile(ROOT / "params.yaml").section(StudyParams, "study")
    variants = {shlex.split(s.cmd)[shlex.split(s.cmd).index("--variant") + 1] for s in stages
                if s.name.split("@")[0] in {f"study_{a.name}" for a in AXES} | {"study_base"}}
    assert variants == {v.path for v in trained(study_variants(study)).values()}
    families = [a.family for a in AXES]
    assert raw["stats"]["metrics"] == ["metrics/study/integrated.json"]  # one row in `dvc metrics show`, no column
    assert {f"reports/axis_{f}.png" for f in families} <= set(raw["report"]["plots"])
