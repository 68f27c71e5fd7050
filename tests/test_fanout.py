"""tools.fanout: the study fanned out over workers that share a DVC remote, gathered through DVC's run-cache.

The rule: workers in their own clones of one commit each run a disjoint share of the first wave and push it; a
gather in a fresh clone restores every run that reached the remote ("Stage 'x' is cached - skipping run") and
computes only what is missing: choose and what follows it, and the stages of a worker that never pushed. A second
wave of workers, once the first is pushed, runs the factorial's points, and the gather then restores those too. Its
outputs are byte-identical to the workers'. A code edit changes the key, so the gather recomputes. A missing
remote stops a step with one line naming it, before any stage runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from dvc.repo import Repo

from fer_pipeline import FerError
from tools.fanout import engine_index, shares, stage_names, use_remote, worker_env
from tools.plan import DATA_DVCFILE, KINDS

from .conftest import ROOT
from .dvcproject import ENV, ran, sh, tiny_copy

WORKERS = 3  # workers 0 and 1 run at the same time; worker 2 is the killed one and never pushes
FANOUT = [sys.executable, "-m", "tools.fanout"]
DATA_STAGES = {f"{DATA_DVCFILE}:{name}" for name in KINDS["data"]}  # as DVC names them when it runs them


def cached(log: str) -> set[str]:
    """Stages a `dvc repro` log says it restored from the run-cache."""
    return {line.split("'")[1] for line in log.splitlines() if line.startswith("Stage '") and "is cached" in line}


def outputs(project: Path, stages: list[str]) -> dict[str, bytes]:
    """The bytes of every file the stages' outputs hold (metrics included), by path relative to the project."""
    with Repo(str(project)) as repo:
        paths = [project / str(o.def_path) for s in repo.index.stages if s.name in stages for o in s.outs]
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*"))) if f.is_file()]
    return {f.relative_to(project).as_posix(): f.read_bytes() for f in files}


def test_index_and_count_come_from_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """--index/--of as given win; else a SLURM array's task id (less its first id) and count, or a Kubernetes
    indexed Job's completion index; with none of them, a one-line error naming the option."""
    for name in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(FerError, match="--index"):
        engine_index(None, ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"), "index")
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "3")
    assert engine_index(None, ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"), "index") == 3
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "12")
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "10")
    assert engine_index(None, ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"), "index") == 2
    assert engine_index(5, ("SLURM_ARRAY_TASK_ID",), "index") == 5


@pytest.mark.parametrize("threads", [0, 2])
def test_worker_takes_one_thread_only_where_the_params_leave_it_free(threads: int, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """runtime.threads is in the training stages' key, so a worker keeps its value; only 0 (torch's default)
    becomes one thread per worker, through OMP_NUM_THREADS, and an engine's own setting wins."""
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text().replace(
        "  threads: 0 ", f"  threads: {threads} "))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert worker_env().get("OMP_NUM_THREADS") == ("1" if threads == 0 else None)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert worker_env()["OMP_NUM_THREADS"] == "4"


def test_target_fans_out_only_what_it_depends_on() -> None:
    """--target report is `dvc repro report`'s stages: every study stage and factorial point, none of the baseline,
    the recipe or the release; a name dvc.yaml lacks is one error naming it."""
    every, study = stage_names(ROOT), stage_names(ROOT, "report")
    assert set(study) < set(every)
    assert {s for s in every if s.startswith("study_")} <= set(study)
    assert not {"train", "train_cnn", "evaluate_cnn", "release"} & set(study)
    assert {s for p in shares(2, ROOT, target="report") for s in p} == {s for s in study if s.startswith("study_")
                                                                        and not s.startswith("study_factorial")}
    with pytest.raises(FerError, match="--target nosuch: not a stage"):
        stage_names(ROOT, "nosuch")


def test_missing_remote_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    """A remote folder that does not exist stops the step with its name and what to do, before DVC is asked."""
    with pytest.raises(FerError, match=f"--remote {tmp_path / 'absent'}: no such directory"):
        use_remote(str(tmp_path / "absent"))


def shared_origin(base: Path, locks_from: Path | None = None) -> tuple[Path, Callable[[str], Path]]:
    """In `base`: the tiny copy as a bare repository and an empty local remote; returns the remote and a function
    that clones the repository into base/<name>, as each worker and gather gets its own clone. With `locks_from`,
    the commit carries that clone's dvc.lock and data/dvc.lock: a published lock whose outputs no remote holds."""
    origin = tiny_copy(base / "origin")
    if locks_from is not None:
        for lock in ("dvc.lock", f"{Path(DATA_DVCFILE).parent}/dvc.lock"):
            (origin / lock).write_bytes((locks_from / lock).read_bytes())
        sh(origin, "git", "add", "-A")
        sh(origin, "git", "commit", "-qm", "the lock of an earlier run")
    sh(base, "git", "clone", "-q", "--bare", str(base / "origin"), "repo.git")
    remote = base / "remote"
    remote.mkdir()

    def clone(name: str) -> Path:
        sh(base, "git", "clone", "-q", str(base / "repo.git"), name)
        return base / name

    return remote, clone


@pytest.fixture(scope="module")
def fanout(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A bare repository, a local remote; prepare; workers 0 and 1 of 3 at once; a gather; a second fresh gather."""
    base = tmp_path_factory.mktemp("fanout")
    remote, clone = shared_origin(base)
    sh(clone("prepare"), *FANOUT, "prepare", "--remote", str(remote))
    parts = shares(WORKERS, base / "origin")
    procs = [subprocess.Popen([*FANOUT, "worker", "--remote", str(remote), "--index", str(i), "--of", str(WORKERS)],
                              cwd=clone(f"w{i}"), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    logs = [p.communicate()[0] for p in procs]
    for p, log in zip(procs, logs, strict=True):
        assert p.returncode == 0, log
    first = sh(clone("gather1"), *FANOUT, "gather", "--remote", str(remote))
    second = sh(clone("gather2"), *FANOUT, "gather", "--remote", str(remote))
    return {"base": base, "remote": remote, "parts": parts, "workers": logs, "first": first, "second": second}


@pytest.mark.slow
def test_workers_run_exactly_their_disjoint_shares(fanout: dict) -> None:
    """Each running worker trains its own share and nothing else; the shares do not overlap."""
    parts, logs = fanout["parts"], fanout["workers"]
    assert all(parts[i] for i in range(WORKERS))
    for i, log in enumerate(logs):
        assert ran(log) - DATA_STAGES == set(parts[i]), log
    assert not set(parts[0]) & set(parts[1])


@pytest.mark.slow
def test_gather_computes_the_killed_workers_stages(fanout: dict) -> None:
    """The first gather restores what workers 0 and 1 pushed and runs worker 2's stages itself, and choose's."""
    parts, log = fanout["parts"], fanout["first"]
    wave1 = {s for part in parts for s in part}
    assert set(parts[0]) | set(parts[1]) <= cached(log)
    assert ran(log) & wave1 == set(parts[2])
    assert "choose" in ran(log)


@pytest.mark.slow
def test_fresh_gather_restores_every_stage_and_runs_none(fanout: dict) -> None:
    """A fresh gather after the first one pushed restores every study stage from the run-cache and runs none."""
    log = fanout["second"]
    wave1 = {s for part in fanout["parts"] for s in part}
    assert wave1 | {"choose", "design", "stats", "report"} <= cached(log)
    assert ran(log) == set(), log


@pytest.mark.slow
def test_gathered_outputs_are_the_workers_bytes(fanout: dict) -> None:
    """Every output of a worker's stages, metrics included, is byte-identical in the gather's clone."""
    base, parts = fanout["base"], fanout["parts"]
    for i in range(2):
        worker = outputs(base / f"w{i}", parts[i])
        assert any(p.startswith("metrics/") for p in worker)
        gathered = outputs(base / "gather2", parts[i])
        assert gathered.keys() == worker.keys()
        assert [p for p in worker if worker[p] != gathered[p]] == []


@pytest.mark.slow
def test_code_edit_makes_the_gather_recompute(fanout: dict) -> None:
    """After an edit of code the plot stages import, the gather runs those stages again and restores the rest."""
    gather = fanout["base"] / "gather2"
    code = gather / "fer_pipeline/training/plot.py"
    code.write_text(code.read_text() + "\n# an edit\n")
    log = sh(gather, *FANOUT, "gather", "--remote", str(fanout["remote"]))
    assert {"plot", "plot_cnn"} <= ran(log)
    assert ran(log) & {"study_base", "train", "choose"} == set()


@pytest.mark.slow
@pytest.mark.parametrize("unwritable", [False, True])
def test_bad_remote_is_one_line_before_any_stage(fanout: dict, tmp_path: Path, unwritable: bool) -> None:
    """A missing or read-only remote: one `error:` line naming it, exit 2, and no stage runs."""
    remote = tmp_path / "remote"
    if unwritable and os.geteuid() == 0:
        remote = Path("/proc/1")  # root writes to a read-only folder, but not into a process's /proc entry
    elif unwritable:
        remote.mkdir()
        remote.chmod(0o500)
    proc = subprocess.run([*FANOUT, "worker", "--remote", str(remote), "--index", "0", "--of", "2"],
                          cwd=fanout["base"] / "w0", env=ENV, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and str(remote) in proc.stderr
    assert "Running stage" not in proc.stdout


@pytest.fixture(scope="module")
def two_waves(tmp_path_factory: pytest.TempPathFactory, fanout: dict) -> dict:
    """A bare repository whose commit carries the first gather's locks, fresh against its code, with a fresh remote
    (so the locked outputs are nowhere); prepare; wave 1 over 2 workers; wave 2 over 2 workers at once; a gather."""
    base = tmp_path_factory.mktemp("waves")
    remote, clone = shared_origin(base, locks_from=fanout["base"] / "gather1")
    def wave(n: int) -> list[str]:
        procs = [subprocess.Popen([*FANOUT, "worker", "--wave", str(n), "--remote", str(remote), "--index", str(i),
                                   "--of", "2"], cwd=clone(f"w{n}-{i}"), env=ENV, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for i in range(2)]
        logs = [p.communicate()[0] for p in procs]
        for p, log in zip(procs, logs, strict=True):
            assert p.returncode == 0, log
        return logs

    sh(clone("prepare"), *FANOUT, "prepare", "--remote", str(remote))
    first, second = wave(1), wave(2)
    gather = sh(clone("gather"), *FANOUT, "gather", "--remote", str(remote))
    return {"parts": shares(2, base / "origin", wave=2), "wave2": second, "gather": gather, "first": first}


@pytest.mark.slow
def test_second_wave_runs_the_factorial_and_the_gather_restores_it(two_waves: dict) -> None:
    """Each second-wave worker restores wave 1 (it retrains none of it), computes choose and runs exactly its
    share of the factorial's points; the gather restores every study stage, choose and every point and runs none. So a
    lock entry whose outputs no cache holds does not hide the runs the workers pushed."""
    parts = two_waves["parts"]
    assert parts[0] and parts[1] and not set(parts[0]) & set(parts[1])
    wave1 = {s for log in two_waves["first"] for s in ran(log)} - DATA_STAGES
    study = {s for s in wave1 if s.startswith("study_")}  # what choose reads (the baseline and recipe it does not)
    for part, log in zip(parts, two_waves["wave2"], strict=True):
        assert ran(log) - {"choose"} == set(part), log
        assert not ran(log) & wave1 and study <= cached(log)
    log = two_waves["gather"]
    assert set(parts[0]) | set(parts[1]) | wave1 <= cached(log)
    assert ran(log) <= {"design", "stats", "replicate", "report", "release"}, log  # choose restored as pushed
