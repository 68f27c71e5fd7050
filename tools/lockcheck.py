"""Which stages dvc.lock records with other code or params than the working tree holds, and which lock entries name
no stage: read from dvc.yaml, dvc.lock, params.yaml and the files git tracks, so it needs neither the data nor the
outputs (unlike `dvc status`, which hashes both).

    python -m tools.lockcheck [--strict] [--root DIR]

For each stage of each dvc.yaml (dvc.yaml and data/dvc.yaml) as DVC resolves it (matrix entries expanded) it
compares the stage's entry in the lock file beside it (dvc.lock, data/dvc.lock) with the working tree:

- no entry: the stage never ran;
- the recorded cmd against dvc.yaml's resolved cmd;
- every dep that is a file git tracks (code, not data or another stage's output): its recorded md5 against the
  file's (DVC records the plain md5 of a file's bytes); deps declared but not recorded, or recorded but no longer
  declared; the same for outs;
- every param key: its recorded value against params.yaml's; keys declared but not recorded, or recorded but no
  longer declared.

and counts the lock entries whose stage dvc.yaml no longer defines. It prints a summary line and one line per
stale stage (entries of a matrix stage that differ alike share a line). It exits 0, a report: a code change made
during a wave leaves stages stale until that wave's final run. With --strict it exits 1 when anything is stale or
orphaned; a missing or unreadable dvc.yaml or dvc.lock is one `error:` line and exit 2.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fer_pipeline import FerError, cli

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # dvc.lock of the full study is a few hundred KB
SHOWN = 3  # names shown per list before "(+N more)"


@dataclass
class Drift:
    """How one stage's dvc.lock entry differs from the working tree (all empty: up to date)."""

    never_run: bool = False
    cmd: bool = False
    code: list[str] = field(default_factory=list)        # git-tracked deps whose md5 differs
    deps_added: list[str] = field(default_factory=list)  # declared in dvc.yaml, not recorded
    deps_removed: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)      # keys whose value differs
    params_added: list[str] = field(default_factory=list)
    params_removed: list[str] = field(default_factory=list)
    outs_added: list[str] = field(default_factory=list)
    outs_removed: list[str] = field(default_factory=list)

    def parts(self) -> list[str]:
        """What differs, in the report's words: e.g. ['code stages/train.py', 'params model.activation']."""
        if self.never_run:
            return ["never run (no dvc.lock entry)"]
        parts = ["cmd"] if self.cmd else []
        # what changed in a file or a value: up to SHOWN names; what dvc.yaml added or removed: the first and a count
        for label, names, shown in (("code", self.code, SHOWN), ("deps added", self.deps_added, 1),
                                    ("deps removed", self.deps_removed, 1), ("params", self.params, SHOWN),
                                    ("params added", self.params_added, 1), ("params removed", self.params_removed, 1),
                                    ("outs added", self.outs_added, 1), ("outs removed", self.outs_removed, 1)):
            if names:
                parts.append(f"{label} {shorten(names, shown)}")
        return parts


@dataclass
class Report:
    """The stages of dvc.yaml in DVC's order, the drift of each stale one, and the orphaned lock entries."""

    stages: list[str]
    stale: dict[str, Drift]
    orphans: list[str]


def shorten(names: list[str], shown: int = SHOWN) -> str:
    """`a, b, c (+2 more)`."""
    more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def resolved_stages(root: Path) -> list:
    """The stages of every dvc.yaml in the repository (root/dvc.yaml and any below it, such as data/dvc.yaml) as DVC
    resolves them (matrix entries expanded), in DVC's order; each dvc.yaml has its own lock file beside it."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    if not (root / "dvc.yaml").is_file():
        raise FerError(f"{root / 'dvc.yaml'}: not found; run from the repository root or pass --root")
    try:
        with Repo(str(root)) as repo:
            return [stage for stage in repo.index.stages if Path(stage.dvcfile.path).name == "dvc.yaml"]
    except DvcException as e:  # DVC reads dvc.lock and params.yaml with dvc.yaml; its message names the one it failed on
        culprit = next((name for name in ("dvc.lock", "params.yaml") if name in str(e)), "dvc.yaml")
        raise FerError(f"{root / culprit}: DVC cannot load it ({e}); fix it or restore it from git") from e


def lock_entries(path: Path) -> dict[str, dict]:
    """A lock file's entries by stage name; none when the file is absent (nothing ran yet)."""
    if not path.exists():
        return {}
    try:
        lock = yaml.load(path.read_text(), Loader=Loader) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise FerError(f"{path}: unreadable ({' '.join(str(e).split())}); restore it from git (git checkout {path.name})") from e
    entries = lock.get("stages", {}) if isinstance(lock, dict) else None
    if not isinstance(entries, dict) or not all(isinstance(e, dict) for e in entries.values()):
        raise FerError(f"{path}: not a DVC lock file (no `stages:` mapping of entries); restore it from git (git checkout {path.name})")
    return entries


def by_dvcfile(root: Path, stages: list) -> dict[Path, list]:
    """Every dvc.yaml that defines stages (root/dvc.yaml always, first), each with its stages in DVC's order."""
    files: dict[Path, list] = {(root / "dvc.yaml").resolve(): []}
    for stage in stages:
        files.setdefault(Path(stage.dvcfile.path).resolve(), []).append(stage)
    return files


def address(root: Path, dvcfile: Path, name: str) -> str:
    """A stage's name as `dvc repro` takes it: bare for root/dvc.yaml's, `data/dvc.yaml:fetch` for another file's."""
    rel = Path(os.path.relpath(dvcfile, root.resolve())).as_posix()
    return name if rel == "dvc.yaml" else f"{rel}:{name}"


def orphaned_entries(root: Path) -> set[str]:
    """The lock entries, of every dvc.yaml's lock file, that match no stage of the dvc.yaml beside it as DVC resolves
    it (matrix entries expanded); named as address() names them."""
    return {address(root, dvcfile, name) for dvcfile, stages in by_dvcfile(root, resolved_stages(root)).items()
            for name in set(lock_entries(dvcfile.with_suffix(".lock"))) - {stage.name for stage in stages}}


def tracked_files(root: Path) -> set[str]:
    """Paths, relative to root, of the files git tracks under root: the code (data and outputs are not tracked)."""
    try:
        proc = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=False)
    except OSError as e:
        raise FerError(f"git: cannot run it ({e.strerror}); lockcheck tells code from data by what git tracks") from e
    if proc.returncode:
        raise FerError(f"{root}: git ls-files failed ({' '.join(proc.stderr.split())}); run it inside the project's git checkout")
    return set(filter(None, proc.stdout.split("\0")))


def file_md5(path: Path) -> str | None:
    """The md5 DVC records for a file (its bytes'), or None when it is missing."""
    try:
        return hashlib.md5(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def added_removed(declared: Iterable[str], recorded: Iterable[str]) -> tuple[list[str], list[str]]:
    """(declared but not recorded, recorded but not declared), each in its own order."""
    declared, recorded = list(declared), list(recorded)
    return [n for n in declared if n not in recorded], [n for n in recorded if n not in declared]


def same_value(current, recorded) -> bool:
    """A param's value equals its recorded one as DVC judges it (a tuple read from YAML equals a recorded list)."""
    return current == recorded or (isinstance(current, tuple) and list(current) == recorded)


def normalized_cmd(cmd) -> list[str]:
    """A stage's cmd as a list of commands (dvc.yaml allows one string or a list)."""
    return [str(c) for c in cmd] if isinstance(cmd, list) else [str(cmd)]


def stage_drift(stage, entry: dict | None, tracked: set[str], root: Path) -> Drift:
    """How the lock entry of one resolved stage differs from dvc.yaml, params.yaml and the git-tracked files."""
    from dvc.dependency.param import ParamsDependency
    from dvc.exceptions import DvcException

    if entry is None:
        return Drift(never_run=True)
    drift = Drift(cmd=normalized_cmd(stage.cmd) != normalized_cmd(entry.get("cmd", "")))

    files = [d for d in stage.deps if not isinstance(d, ParamsDependency)]
    recorded = {d.get("path"): d for d in entry.get("deps") or [] if isinstance(d, dict)}
    drift.deps_added, drift.deps_removed = added_removed([d.def_path for d in files], recorded)
    for dep in files:
        rel = Path(os.path.relpath(Path(dep.fs_path).resolve(), root.resolve())).as_posix()
        if rel in tracked and dep.def_path in recorded and recorded[dep.def_path].get("md5") != file_md5(root / rel):
            drift.code.append(dep.def_path)

    recorded_params = entry.get("params") or {}
    for dep in stage.deps:
        if not isinstance(dep, ParamsDependency):
            continue
        try:
            current = dep.read_params()
        except DvcException as e:
            raise FerError(f"{dep.def_path}: unreadable params file ({e}); fix its YAML") from e
        before = recorded_params.get(dep.def_path) or {}
        keys = list(dep.params) or list(current)  # no keys: the whole file is tracked
        added, removed = added_removed(keys, before)
        drift.params_added += added
        drift.params_removed += removed
        drift.params += [k for k in keys if k in before and (k not in current or not same_value(current[k], before[k]))]
    declared_files = {dep.def_path for dep in stage.deps if isinstance(dep, ParamsDependency)}
    drift.params_removed += [f"{f} (all)" for f in recorded_params if f not in declared_files]

    drift.outs_added, drift.outs_removed = added_removed(
        [o.def_path for o in stage.outs], [o.get("path") for o in entry.get("outs") or [] if isinstance(o, dict)])
    return drift


def check(root: Path) -> Report:
    """Compare every stage of every dvc.yaml with its entry in the lock file beside it; reads no data and no outputs."""
    tracked = tracked_files(root)
    names, stale, orphans = [], {}, []
    for dvcfile, stages in by_dvcfile(root, resolved_stages(root)).items():
        entries = lock_entries(dvcfile.with_suffix(".lock"))
        for stage in stages:
            names.append(address(root, dvcfile, stage.name))
            drift = stage_drift(stage, entries.get(stage.name), tracked, root)
            if drift.parts():
                stale[names[-1]] = drift
        orphans += [address(root, dvcfile, n) for n in sorted(set(entries) - {stage.name for stage in stages})]
    return Report(names, stale, orphans)


def grouped(report: Report) -> list[tuple[str, list[str]]]:
    """(label, parts) per report line: the stale entries of one matrix stage that differ alike share a line,
    `name@*` when that is all of its entries, else `name@{a, b}`."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for name, drift in report.stale.items():
        groups.setdefault((name.split("@")[0], tuple(drift.parts())), []).append(name)
    entries_of: dict[str, int] = {}
    for name in report.stages:
        entries_of[name.split("@")[0]] = entries_of.get(name.split("@")[0], 0) + 1
    lines = []
    for (base, parts), names in groups.items():
        if len(names) == 1:
            label = names[0]
        elif len(names) == entries_of[base]:
            label = f"{base}@* (all {len(names)})"
        else:
            label = f"{base}@{{{shorten([n.split('@', 1)[1] for n in names])}}}"
        lines.append((label, list(parts)))
    return lines


def format_report(report: Report) -> list[str]:
    """The summary line, one line per stale stage (or group of matrix entries), and the orphaned entries."""
    never = sum(d.never_run for d in report.stale.values())
    differ = len(report.stale) - never
    summary = f"lockcheck: {differ} of {len(report.stages)} stages record code or params that differ from the working tree"
    if never:
        summary += f", {never} never ran"
    summary += f"; {len(report.orphans)} lock entr{'y names' if len(report.orphans) == 1 else 'ies name'} no stage"
    lines = [summary] + [f"  {label}: {'; '.join(parts)}" for label, parts in grouped(report)]
    if report.orphans:
        lines.append(f"  lock entries without a stage (remove them from the dvc.lock beside their dvc.yaml): {', '.join(report.orphans)}")
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="List the stages whose dvc.lock entry records other code, params, cmd, "
                                            "deps or outs than the working tree, and the lock entries that name no stage.")
    p.add_argument("--root", default=".", help="the project folder holding dvc.yaml and dvc.lock (default: .)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a stage is stale or a lock entry names no stage")
    args = p.parse_args(argv)
    report = check(Path(args.root))
    print("\n".join(format_report(report)))
    if args.strict and (report.stale or report.orphans):
        sys.exit(1)


if __name__ == "__main__":
    cli.run(main)
