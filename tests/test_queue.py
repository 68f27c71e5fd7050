"""Experiments in parallel: `dvc exp run --queue`, then `dvc queue start -j 2`, compared with `dvc exp show`.

The rule: experiments queued from a committed project run in the background, two at a time, each in its own
temporary copy of the repo (the workspace is left alone); `dvc exp show --json` then lists each one with its
params and its macro_recall from metrics/evaluate/baseline.json. A queued experiment that fails is marked
`Failed` in `dvc queue status` (nothing else reports it: `dvc queue start` returns at once) and its error is in
`dvc queue logs`. The queue's celery workers are detached processes that outlive the command that started them,
so the test always stops them and checks that none is left.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .dvcproject import ENV, sh, stale, tiny_copy

pytestmark = pytest.mark.slow

QUEUED = {"act-tanh": "tanh", "act-sigmoid": "sigmoid"}
BROKEN = "act-bogus"  # an activation params.yaml does not allow: the train stage stops with `error: ...`
TIMEOUT_S = 600


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny copy after one `dvc repro`, with its results (dvc.lock) committed: queued runs start from HEAD."""
    dst = tiny_copy(tmp_path_factory.mktemp("queue"))
    sh(dst, "dvc", "repro")
    sh(dst, "git", "add", "-A")
    sh(dst, "git", "commit", "-qm", "results")
    return dst


def queue_status(project: Path) -> tuple[dict[str, str], str]:
    """Experiment name -> status (Queued, Running, Success, Failed), and the worker line of `dvc queue status`."""
    out = sh(project, "dvc", "queue", "status")
    tasks = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] in (*QUEUED, BROKEN):
            tasks[fields[1]] = fields[-1]
    workers = next((line for line in out.splitlines() if line.startswith("Worker status")), "")
    return tasks, workers


def worker_pids(project: Path) -> list[int]:
    """Pids of the queue's celery workers, from the pid files DVC writes under .dvc/tmp/exps/celery."""
    return [int(p.read_text()) for p in (project / ".dvc/tmp/exps/celery").glob("dvc-exp-worker-*.pid")]


def alive(pid: int) -> bool:
    """Whether a process with this pid still runs: a killed one that its parent (for a daemon, init) has not reaped
    yet is a zombie and counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def start_workers(project: Path) -> str:
    """`dvc queue start -j 2`, its output through a file, not a pipe: the workers it daemonizes (and, on a loaded
    machine, an intermediate process that lingers) inherit its stdout, and a pipe held open by one of them would
    block the reader until the worker exits."""
    log = project.parent / "queue-start.log"
    with log.open("w") as out:
        proc = subprocess.run(["dvc", "queue", "start", "-j", "2"], cwd=project, env=ENV, stdout=out,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
    text = log.read_text()
    assert proc.returncode == 0, f"dvc queue start failed ({proc.returncode}):\n{text}"
    return text


def stop_workers(project: Path) -> None:
    """`dvc queue stop --kill`, then wait (bounded) until no worker process is left; SIGKILL any straggler by pid."""
    pids = worker_pids(project)
    sh(project, "dvc", "queue", "stop", "--kill")
    deadline = time.monotonic() + 60
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10  # SIGKILL is delivered at once, the exit is not
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)


def test_queued_experiments_run_two_at_a_time_and_exp_show_compares_them(project: Path) -> None:
    """Two queued activations run with `dvc queue start -j 2`; `dvc exp show` lists both with different recalls.
    Each queued experiment runs the library code it was queued with, in its own temporary workspace: the library
    is edited between the two `--queue` calls and restored before the queue starts."""
    plots_py = project / "fer_pipeline/plots.py"  # imported only by plot stages: a cheap rerun
    original = plots_py.read_text()
    markers = project.parent / "markers"
    markers.mkdir()
    for name, activation in QUEUED.items():
        # This experiment's version of the library writes a marker, named after it, when imported.
        plots_py.write_text(original + f"\nimport os as _os\n\nopen({str(markers / name)!r}, 'a').write(_os.getcwd() + '\\n')\n")
        sh(project, "dvc", "exp", "run", "--queue", "-S", f"model.activation={activation}", "--name", name)
    plots_py.write_text(original)
    sh(project, "dvc", "exp", "run", "--queue", "-S", "model.activation=bogus", "--name", BROKEN)
    assert set(queue_status(project)[0].values()) == {"Queued"}
    try:
        assert "Started '2' new experiments task queue workers" in start_workers(project)
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            tasks, _ = queue_status(project)
            if not {"Queued", "Running"} & set(tasks.values()):
                break
            assert time.monotonic() < deadline, f"queue not done after {TIMEOUT_S} s: {tasks}"
            time.sleep(2)
    finally:
        stop_workers(project)
    assert tasks == {**dict.fromkeys(QUEUED, "Success"), BROKEN: "Failed"}
    assert not [p for p in worker_pids(project) if alive(p)]
    assert "Worker status: 0 active, 0 idle" in queue_status(project)[1]

    # Two workers, each took experiments from the queue (what -j 2 means; how much faster that is, is not tested).
    logs = [p.read_text() for p in (project / ".dvc/tmp/exps/celery").glob("dvc-exp-worker-*.out")]
    received = [len(re.findall(r"run_exp\[[^\]]+\] received", log)) for log in logs]
    assert len(received) == 2 and all(received) and sum(received) == 3
    assert "error: params.yaml" in sh(project, "dvc", "queue", "logs", BROKEN)
    # Each experiment imported its own edited library (not the workspace's, not the installing checkout's),
    # and outside the workspace: DVC ran it in a temporary copy.
    ran_in = {m.name: m.read_text().split() for m in markers.iterdir()}
    assert set(ran_in) == set(QUEUED) and all(dirs and str(project) not in dirs for dirs in ran_in.values()), ran_in

    # Compare the experiments. Pitfall: the failed one is listed too, with its params and its baseline's metrics
    # (no output of its own), so a table must be read with its State column (executor state in the JSON).
    rows = {}
    for baseline in json.loads(sh(project, "dvc", "exp", "show", "--json")):
        if not baseline.get("experiments"):
            continue  # the workspace row
        committed = baseline["data"]["metrics"]["metrics/evaluate/baseline.json"]["data"]["macro_recall"]
        for exp in baseline["experiments"]:
            for rev in exp["revs"]:
                data = rev["data"]
                rows[rev["name"]] = (exp["executor"]["state"], data["params"]["params.yaml"]["data"]["model"]["activation"],
                                     data["metrics"]["metrics/evaluate/baseline.json"]["data"]["macro_recall"])
    assert {name: row[:2] for name, row in rows.items()} == {"act-tanh": ("success", "tanh"), "act-sigmoid": ("success", "sigmoid"),
                                                              BROKEN: ("failed", "bogus")}
    assert rows[BROKEN][2] == committed
    recall = {name: row[2] for name, row in rows.items() if name in QUEUED}
    assert all(0.0 <= r <= 1.0 for r in recall.values())
    assert len({*recall.values(), committed}) == 3  # tanh, sigmoid and the committed relu all differ

    # The workspace was never touched: still the committed params and outputs.
    assert "activation: relu" in (project / "params.yaml").read_text()
    assert stale(project) == set()
