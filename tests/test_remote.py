"""Sharing results through a DVC remote: what one copy pushes, a fresh clone pulls, and then has nothing left to run.

The rule: after `dvc push --run-cache` from a repo whose dvc.lock is committed, a fresh `git clone` of it plus
`dvc pull --run-cache` gets back every output (data, models, metrics, plots) byte for byte, `dvc status` is clean
and `dvc repro` runs no stage. The pulled run-cache also lets the clone switch to a param value the origin ran
before (here model.activation=tanh) and restore that run's outputs instead of retraining, provided the outputs of
that run were pushed too (`dvc push --run-cache` sends only the run records, not the files they name).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .dvcproject import ran, set_param, sh, stale, tiny_copy

pytestmark = pytest.mark.slow

CORE = ["data/train/baseline/model.pt", "metrics/evaluate/baseline.json", "metrics/train/baseline/metrics.json",
        "plots/baseline/curves.png", "plots/baseline/confusion.png", "data/fetch/dataset.npz"]  # models, metrics, plots, data


def outputs(project: Path) -> list[str]:
    """Every file DVC records as a stage output in the project's lock files, dvc.lock and data/dvc.lock (folders
    expanded), relative to it (a stage of either runs from the root, so its out paths are the root's)."""
    locks = [yaml.safe_load((project / name).read_text()) for name in ("dvc.lock", "data/dvc.lock")]
    files: list[Path] = []
    for stage in (stage for lock in locks for stage in lock["stages"].values()):
        for out in stage.get("outs", []):
            path = project / out["path"]
            files += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sorted(p.relative_to(project).as_posix() for p in files)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An origin that ran the default params and tanh, pushed both with the run-cache; and a fresh clone that pulled."""
    base = tmp_path_factory.mktemp("remote")
    origin = tiny_copy(base / "origin")
    sh(origin, "dvc", "repro")
    sh(origin, "dvc", "remote", "add", "-d", "storage", str(base / "storage"))  # a local-folder remote, in .dvc/config

    # A second run (tanh) whose outputs reach the remote while they are in the workspace; its run records go with
    # `--run-cache` below. Then back to the committed params, which the local run-cache restores without training.
    params = (origin / "params.yaml").read_text()
    set_param(origin, "model.activation", "tanh")
    assert "train" in ran(sh(origin, "dvc", "repro"))
    tanh_model = (origin / "data/train/baseline/model.pt").read_bytes()
    sh(origin, "dvc", "push")
    (origin / "params.yaml").write_text(params)
    assert ran(sh(origin, "dvc", "repro")) == set()

    sh(origin, "git", "add", "-A")
    sh(origin, "git", "commit", "-qm", "results and remote")
    sh(origin, "dvc", "push", "--run-cache")

    sh(base, "git", "clone", "-q", str(origin), "clone")
    clone = base / "clone"
    assert not (clone / "data/train/baseline/model.pt").exists()  # git alone carries no outputs
    sh(clone, "dvc", "pull", "--run-cache")
    return {"origin": origin, "clone": clone, "tanh_model": tanh_model}


def test_pull_restores_every_output(shared: dict) -> None:
    """`dvc pull` in a fresh clone brings back every output dvc.lock names: data, models, metrics, plots."""
    origin, clone = shared["origin"], shared["clone"]
    assert set(CORE) <= set(outputs(origin))
    assert outputs(clone) == outputs(origin)


def test_pulled_clone_is_up_to_date_and_repro_runs_nothing(shared: dict) -> None:
    """After the pull `dvc status` reports nothing changed and `dvc repro` runs no stage."""
    clone = shared["clone"]
    assert stale(clone) == set()
    out = sh(clone, "dvc", "repro")
    assert ran(out) == set()
    assert "Data and pipelines are up to date" in out


def test_pulled_results_equal_the_origin_byte_for_byte(shared: dict) -> None:
    """Every pulled output, the metrics first of all, is byte-identical to the origin's."""
    origin, clone = shared["origin"], shared["clone"]
    files = outputs(origin)
    metrics = [f for f in files if f.startswith("metrics/")]
    assert "metrics/evaluate/baseline.json" in metrics
    assert [f for f in metrics if (origin / f).read_bytes() != (clone / f).read_bytes()] == []
    assert [f for f in files if (origin / f).read_bytes() != (clone / f).read_bytes()] == []


def test_pulled_run_cache_restores_a_run_of_the_origin_without_training(shared: dict) -> None:
    """A param value the origin ran before (tanh) restores from the pulled run-cache: no stage runs, same model bytes.

    Pitfall shown on the way: `dvc pull --run-cache` downloads the run records, not the outputs they name, so
    without `--pull` DVC would train again; `dvc repro --pull` fetches those outputs from the remote instead.
    """
    clone = shared["clone"]
    params = (clone / "params.yaml").read_text()
    try:
        set_param(clone, "model.activation", "tanh")
        assert "train" in stale(clone)
        assert "train" in ran(sh(clone, "dvc", "repro", "--dry"))  # outputs not in the local cache: it would train
        out = sh(clone, "dvc", "repro", "--pull")
        assert ran(out) == set()
        assert "Stage 'train' is cached - skipping run" in out
        assert (clone / "data/train/baseline/model.pt").read_bytes() == shared["tanh_model"]
        assert stale(clone) == set()
    finally:
        (clone / "params.yaml").write_text(params)
    assert ran(sh(clone, "dvc", "repro")) == set()  # and back: restored from the local cache
