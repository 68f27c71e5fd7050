"""tools.lockcheck (`make lock-check`): from dvc.yaml, dvc.lock, params.yaml and the git-tracked files alone, it
names every stage whose recorded code, params or declarations differ from the working tree, and every lock entry
that names no stage. Checked on a throwaway DVC project whose dvc.lock a real `dvc repro` wrote."""

from __future__ import annotations

import contextlib
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dvc.repo import Repo

from tools.lockcheck import check, format_report, main

from .conftest import ROOT

PY = shlex.quote(sys.executable)
DVC_YAML = f"""\
stages:
  prepare:
    cmd: {PY} code.py prepare
    deps: [code.py]
    params: [prepare.n]
    outs: [out-prepare.txt]
  shard:
    matrix:
      part: [a, b]
    cmd: {PY} code.py shard-${{item.part}}
    deps: [code.py, out-prepare.txt]
    params: [shard.size]
    outs: ["out-shard-${{item.part}}.txt"]
  summary:
    cmd: {PY} other.py
    deps: [other.py, out-shard-a.txt, out-shard-b.txt]
    outs: [summary.txt]
"""
STAGES = ["prepare", "shard@a", "shard@b", "summary"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A git + DVC project with three stages (one a matrix of two) after `dvc repro`: its dvc.lock is DVC's own."""
    root = tmp_path_factory.mktemp("lockcheck") / "project"
    root.mkdir()
    (root / "code.py").write_text("import sys\nopen(f'out-{sys.argv[1]}.txt', 'w').write(sys.argv[1])\n")
    (root / "other.py").write_text("open('summary.txt', 'w').write('done')\n")
    (root / "params.yaml").write_text("prepare:\n  n: 1\nshard:\n  size: 2\n")
    (root / "dvc.yaml").write_text(DVC_YAML)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    Repo.init(str(root)).close()
    subprocess.run(["git", "add", "code.py", "other.py", "params.yaml", "dvc.yaml"], cwd=root, check=True)
    with contextlib.chdir(root), Repo(str(root)) as repo:  # reproduce() without targets reads the cwd's dvc.yaml
        repo.reproduce()
    assert (root / "dvc.lock").is_file() and (root / "summary.txt").is_file()
    return root


@pytest.fixture
def project(built, tmp_path) -> Path:
    """A fresh copy of the built project for one test to change."""
    return Path(shutil.copytree(built, tmp_path / "project", symlinks=True))


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_fresh_repro_is_up_to_date(project):
    """Right after `dvc repro` no stage is stale and no lock entry is orphaned; matrix entries count one by one."""
    report = check(project)
    assert report.stages == STAGES and not report.stale and not report.orphans
    assert format_report(report) == [
        "lockcheck: 0 of 4 stages record code or params that differ from the working tree; 0 lock entries name no stage"]


def test_code_edit_lists_exactly_the_stages_that_depend_on_it(project):
    """An edited code file makes stale exactly the stages that declare it, each naming that file, and they are the
    stages `dvc status` finds changed; the matrix entries that differ alike share one line."""
    with (project / "code.py").open("a") as f:
        f.write("# edited\n")
    report = check(project)
    assert {name: drift.parts() for name, drift in report.stale.items()} == {
        name: ["code code.py"] for name in ("prepare", "shard@a", "shard@b")}
    with contextlib.chdir(project), Repo(str(project)) as repo:
        assert set(repo.status()) == set(report.stale)
    assert format_report(report)[1:] == ["  prepare: code code.py", "  shard@* (all 2): code code.py"]


def test_changed_param_lists_its_stages_and_key(project):
    """A param whose value differs from the recorded one makes stale the stages that read it, naming the key."""
    edit_yaml(project / "params.yaml", lambda p: p["shard"].update(size=3))
    report = check(project)
    assert {name: drift.parts() for name, drift in report.stale.items()} == {
        "shard@a": ["params shard.size"], "shard@b": ["params shard.size"]}


def test_declaration_changes_are_listed(project):
    """A dep, param key or out declared in dvc.yaml but not recorded, one recorded but no longer declared, and a
    changed cmd, each make the stage stale and are named."""
    def change(d):
        d["stages"]["prepare"]["deps"] = ["code.py", "other.py"]
        d["stages"]["prepare"]["params"] = ["prepare.m"]
        d["stages"]["summary"]["cmd"] += " --quiet"
        d["stages"]["summary"]["outs"].append("extra.txt")

    edit_yaml(project / "dvc.yaml", change)
    edit_yaml(project / "params.yaml", lambda p: p["prepare"].update(m=5))
    report = check(project)
    assert set(report.stale) == {"prepare", "summary"}
    assert report.stale["prepare"].parts() == ["deps added other.py", "params added prepare.m", "params removed prepare.n"]
    assert report.stale["summary"].parts() == ["cmd", "outs added extra.txt"]


def test_needs_neither_data_nor_outputs(project):
    """With every output and the DVC cache deleted, nothing is stale: only git-tracked files are hashed, and a dep
    that is another stage's output is compared by its declaration only."""
    for name in ("out-prepare.txt", "out-shard-a.txt", "out-shard-b.txt", "summary.txt"):
        (project / name).unlink()
    shutil.rmtree(project / ".dvc" / "cache")
    assert not check(project).stale


def test_orphaned_and_never_run_entries_are_counted(project):
    """A lock entry whose stage dvc.yaml no longer defines is counted and named; a stage without an entry is
    listed as never run."""
    edit_yaml(project / "dvc.lock", lambda lock: lock["stages"].update(gone={"cmd": "true"}))
    edit_yaml(project / "dvc.yaml", lambda d: d["stages"].update(new={"cmd": "true"}))
    report = check(project)
    assert report.orphans == ["gone"]
    assert list(report.stale) == ["new"] and report.stale["new"].never_run
    assert format_report(report) == [
        "lockcheck: 0 of 5 stages record code or params that differ from the working tree, 1 never ran; 1 lock entry names no stage",
        "  new: never run (no dvc.lock entry)",
        "  lock entries without a stage (remove them from the dvc.lock beside their dvc.yaml): gone"]


def test_strict_exit_codes(project, capsys):
    """Without --strict it is a report and returns (exit 0) even when stages are stale; --strict exits 0 when all
    is up to date and 1 when a stage is stale."""
    main(["--root", str(project), "--strict"])
    (project / "other.py").write_text("open('summary.txt', 'w').write('changed')\n")
    main(["--root", str(project)])
    with pytest.raises(SystemExit) as exit_:
        main(["--root", str(project), "--strict"])
    assert exit_.value.code == 1
    assert "  summary: code other.py" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("bad", ["no dvc.yaml", "unreadable dvc.lock"])
def test_bad_input_is_one_error_line_and_exit_2(project, bad):
    """A missing dvc.yaml or an unreadable dvc.lock stops `python -m tools.lockcheck` with exit 2 and one
    `error:` line naming the file."""
    if bad == "no dvc.yaml":
        (project / "dvc.yaml").unlink()
    else:
        (project / "dvc.lock").write_text("stages: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "tools.lockcheck", "--root", str(project)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and bad.split()[-1] in lines[0], proc.stderr


def test_a_second_dvc_yaml_is_checked_against_its_own_lock(tmp_path):
    """A stage of a dvc.yaml below the root (as data/dvc.yaml is) is compared with the lock file beside it, named as
    `dvc repro` takes it (sub/dvc.yaml:first); so are the orphaned entries of that lock; the root's stages likewise."""
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)
    (root / "code.py").write_text("import sys\nopen(f'out-{sys.argv[1]}.txt', 'w').write(sys.argv[1])\n")
    (root / "params.yaml").write_text("prepare:\n  n: 1\n")
    (root / "sub" / "dvc.yaml").write_text(
        f"stages:\n  first:\n    wdir: ..\n    cmd: {PY} code.py first\n    deps: [code.py]\n    params: [prepare.n]\n"
        "    outs: [out-first.txt]\n")
    (root / "dvc.yaml").write_text(f"stages:\n  second:\n    cmd: {PY} code.py second\n    deps: [code.py, out-first.txt]\n"
                                   "    outs: [out-second.txt]\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    Repo.init(str(root)).close()
    subprocess.run(["git", "add", "code.py", "params.yaml", "dvc.yaml", "sub/dvc.yaml"], cwd=root, check=True)
    with contextlib.chdir(root), Repo(str(root)) as repo:
        repo.reproduce()  # the root's stage and, upstream of it, the other file's
    assert (root / "sub" / "dvc.lock").is_file() and "first" not in yaml.safe_load((root / "dvc.lock").read_text())["stages"]
    report = check(root)
    assert report.stages == ["second", "sub/dvc.yaml:first"] and not report.stale and not report.orphans

    edit_yaml(root / "params.yaml", lambda d: d["prepare"].update(n=2))
    edit_yaml(root / "sub" / "dvc.lock", lambda d: d["stages"].update(gone={"cmd": "true"}))
    report = check(root)
    assert list(report.stale) == ["sub/dvc.yaml:first"] and report.stale["sub/dvc.yaml:first"].params == ["prepare.n"]
    assert report.orphans == ["sub/dvc.yaml:gone"]
