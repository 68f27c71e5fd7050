"""The study fanned out over N workers that share a DVC remote (docs/scaling.md): each step is one command.

    python -m tools.fanout prepare --remote URL                 # once: the data stages, pushed with their run-cache
    python -m tools.fanout worker --remote URL --index I --of N # in each worker's own clone of the same commit
    python -m tools.fanout worker --wave 2 --remote URL --index I --of N   # optional, once wave 1 is pushed
    python -m tools.fanout gather --remote URL                  # in a fresh clone: restores, computes the rest

--target STAGE (worker and gather) fans out only what `dvc repro STAGE` needs, e.g. --target report: the study
without the baseline, the recipe and the release.

A worker runs its share of the first wave (tools/plan.py: partition) and pushes the runs to the remote. A second-wave
worker restores wave 1 from the run-cache, computes choose (deterministic: every clone gets the same choice.json,
so the same keys) and runs its share of the factorial's points (partition_wave2). The gather's `dvc repro --pull`
restores every run the workers pushed from the run-cache and computes only what is missing (design, stats,
replicate, report, release; choose and the factorial when no second wave ran; and any worker's stages that never
reached the remote). Nothing here schedules: a SLURM array, a Kubernetes indexed Job or `xargs -P` starts the
workers, and --index/--of default to the engine's variables. The remote is set in .dvc/config.local (not tracked).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import uuid
from pathlib import Path

from fer_pipeline import FerError, cli
from fer_pipeline.params import ParamsFile, RuntimeParams
from tools.plan import DATA_DVCFILE, KINDS, partition, partition_wave2

REMOTE = "fanout"  # the name the steps give the shared remote in .dvc/config.local
DATA = (DATA_DVCFILE,)  # the data stages, as one target: `dvc repro data/dvc.yaml`
# The engines' variables for a task's index and the task count (SLURM job arrays, Kubernetes indexed Jobs).
INDEX_VARS = ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX")
COUNT_VARS = ("SLURM_ARRAY_TASK_COUNT",)


def use_remote(url: str) -> None:
    """Make `url` this clone's default remote, after checking that it exists and takes a write."""
    from dvc.repo import Repo

    if "://" not in url:
        path = Path(url)
        if not path.is_dir():
            raise FerError(f"--remote {url}: no such directory; create it (mkdir -p {url}) or give another remote")
        if not os.access(path, os.W_OK | os.X_OK):
            raise FerError(f"--remote {url}: not writable by this user; fix its permissions or give another remote")
        url = str(path.resolve())  # workers and the gather run in other folders
    dvc("remote", "add", "--local", "--force", "--default", REMOTE, url, quiet=True)
    with Repo(".") as repo:  # any remote DVC knows (S3, SSH, ...): write and delete a probe file
        remote = repo.cloud.get_remote(REMOTE)
        probe = remote.fs.join(remote.path, f".fanout-probe-{uuid.uuid4().hex}")
        try:
            remote.fs.makedirs(remote.path, exist_ok=True)
            remote.fs.pipe_file(probe, b"")
            remote.fs.rm(probe)
        except Exception as exc:  # noqa: BLE001 - whatever the backend raises, the message names the remote
            raise FerError(f"--remote {url}: cannot write to it ({type(exc).__name__}: {exc}); check the URL and "
                           "credentials") from exc


def dvc(*args: str, quiet: bool = False, env: dict | None = None) -> None:
    """Run a dvc command in this clone, its output passed through; a failure stops the step with DVC's message."""
    proc = subprocess.run(["dvc", *args], env=env, capture_output=quiet, text=True)
    if proc.returncode:
        detail = f": {proc.stderr.strip().splitlines()[-1]}" if quiet and proc.stderr.strip() else ""
        raise FerError(f"dvc {' '.join(args)} failed (exit {proc.returncode}){detail}")


def worker_env() -> dict:
    """The environment of a worker's stages: one torch thread per worker when runtime.threads leaves the count to
    torch (0). runtime.threads is in the training stages' run-cache key, so it must equal the gather's; the thread
    count it leaves free is not in the key (docs/scaling.md: what changes results without changing the key)."""
    env = dict(os.environ)
    if ParamsFile("params.yaml").section(RuntimeParams, "runtime").threads == 0:
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("MKL_NUM_THREADS", "1")
    return env


def engine_index(given: int | None, names: tuple[str, ...], what: str) -> int:
    """--index or --of as given, else from the launching engine's variable."""
    if given is not None:
        return given
    for name in names:
        if os.environ.get(name, "").isdigit():
            value = int(os.environ[name])
            if name == "SLURM_ARRAY_TASK_ID":
                value -= int(os.environ.get("SLURM_ARRAY_TASK_MIN", "0") or 0)
            return value
    raise FerError(f"fan-out worker: no {what}; give --{what} or launch from an engine that sets {' or '.join(names)}")


def stage_names(root: str | Path = ".", target: str | None = None) -> list[str]:
    """The names of the stages dvc.yaml declares (matrix entries as name@key), as DVC resolves them; with a target,
    only that stage and the stages it depends on (DVC's own graph, as `dvc repro target` walks it)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        if target is None:
            return [s.name for s in repo.index.stages]
        try:
            return [s.name for s in repo.stage.collect(target, with_deps=True)]
        except Exception as exc:  # noqa: BLE001 - DVC's own error names what it could not find
            raise FerError(f"--target {target}: not a stage of dvc.yaml ({exc}); give one of `dvc stage list`") from exc


def shares(of: int, root: str | Path = ".", wave: int = 1, target: str | None = None) -> list[list[str]]:
    """The workers' shares of a wave. From the commit's stages and the real data's costs alone, not from what is
    stale here or which data this clone holds, so every worker computes the same partition."""
    names = stage_names(root, target)
    return partition(names, of, "real") if wave == 1 else partition_wave2(names, of)


def forget_unreachable(target: str | None = None) -> list[str]:
    """Drop from the locks the entries (of `target`'s closure, or every stage) whose cached outputs are neither in
    this clone's cache nor on the fan-out remote; returns their names.

    DVC treats a lock entry whose deps and params still match as the stage's one run: `dvc repro --pull` pulls that
    entry's outputs and, when no cache holds them, runs the stage again without looking in the run-cache
    (dvc/stage/cache.py: StageCache.restore). A commit's lock from an earlier run, whose outputs only that run's
    machine holds, would so hide every run another worker pushed. Without the entry, DVC looks the run up by its key.
    """
    from dvc.repo import Repo
    from dvc.utils.serialize import dump_yaml

    forgotten: dict[object, list] = {}  # lock file -> its stages to forget
    with Repo(".") as repo:
        remote = repo.cloud.get_remote_odb(REMOTE)
        stages = repo.stage.collect(target, with_deps=True) if target else repo.index.stages
        for stage in stages:
            outs = [o for o in stage.outs if o.use_cache and o.hash_info]
            if all(o.cache.exists(o.hash_info.value) or remote.exists(o.hash_info.value) for o in outs):
                continue  # restorable as locked (no entry, or outputs that a cache holds)
            forgotten.setdefault(stage.dvcfile._lockfile, []).append(stage)  # noqa: SLF001 - DVC's own lock file
    for lockfile, gone in forgotten.items():  # one round-trip rewrite per lock file (217 KB: 0.7 s each)
        data, _ = lockfile._load_yaml(round_trip=True)  # noqa: SLF001 - as Lockfile.remove_stage, for many
        for stage in gone:
            del data["stages"][stage.name]
        dump_yaml(lockfile.path, data)
    return [stage.addressing for gone in forgotten.values() for stage in gone]


def repro(*targets: str, target: str | None = None, env: dict | None = None) -> None:
    """`dvc repro --pull targets` after forgetting the lock entries no cache can restore (forget_unreachable)."""
    forgotten = forget_unreachable(target)
    if forgotten:
        print(f"fan-out: {len(forgotten)} lock entries name outputs no cache holds; DVC looks them up in the "
              "run-cache instead", flush=True)
    dvc("repro", "--pull", *targets, env=env)


def prepare(args: argparse.Namespace) -> None:
    use_remote(args.remote)
    repro(*DATA, target=DATA_DVCFILE)
    dvc("push", "--run-cache", *DATA)
    print(f"fan-out prepare: {', '.join(KINDS['data'])} pushed to {args.remote}; start the workers")


def worker(args: argparse.Namespace) -> None:
    of = engine_index(args.of, COUNT_VARS, "of")
    index = engine_index(args.index, INDEX_VARS, "index")
    if not 0 <= index < of:
        raise FerError(f"fan-out worker: --index {index} is outside 0..{of - 1} (--of {of})")
    mine = shares(of, wave=args.wave, target=args.target)[index]
    use_remote(args.remote)
    if not mine:
        print(f"fan-out worker {index} of {of}: no stages (more workers than units of work)")
        return
    print(f"fan-out worker {index} of {of}, wave {args.wave}: {' '.join(mine)}", flush=True)
    # Restored from the run-cache, so every worker's deps hash the same: prepare's data stages; in wave 2 also
    # wave 1's runs, and choose computed from them (the factorial's points read its choice.json).
    repro(*(DATA if args.wave == 1 else ("choose",)), target=args.target, env=worker_env())
    for stage in mine:  # pushed one by one: a worker that dies loses only the stage it was running
        dvc("repro", "--pull", "--single-item", stage, env=worker_env())  # --pull: a rerun restores what it pushed
        # `push --run-cache` sends every run record this clone holds, and DVC restores a key's newest record only:
        # --with-deps sends the outputs of what the stage reads too (choose's, in wave 2), so no record arrives
        # without its outputs and shadows a complete one.
        dvc("push", "--run-cache", "--with-deps", stage)
    print(f"fan-out worker {index} of {of}: pushed {len(mine)} stages to {args.remote}")


def gather(args: argparse.Namespace) -> None:
    use_remote(args.remote)
    targets = (args.target,) if args.target else ()
    repro(*targets, target=args.target)
    # What the gather computed, so a second gather restores it all.
    dvc("push", "--run-cache", *targets, *(("--with-deps",) if targets else ()))
    print("fan-out gather: the study is complete; commit dvc.lock and data/dvc.lock to make them the study's lock")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.fanout", description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    for name, func in (("prepare", prepare), ("worker", worker), ("gather", gather)):
        step = steps.add_parser(name)
        step.add_argument("--remote", required=True, help="the shared DVC remote: a folder, s3://..., ssh://...")
        step.set_defaults(func=func)
        if name != "prepare":
            step.add_argument("--target", help="fan out only this stage and what it depends on (default: every stage)")
        if name == "worker":
            step.add_argument("--index", type=int, help="this worker's index, 0..N-1 (default: the engine's)")
            step.add_argument("--of", type=int, help="the number of workers N (default: the engine's)")
            step.add_argument("--wave", type=int, choices=(1, 2), default=1,
                              help="1: the one-factor study, baseline and recipe; 2: the factorial's points, once wave 1 "
                                   "is pushed (default 1)")
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    cli.run(main)
