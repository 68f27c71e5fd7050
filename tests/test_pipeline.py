"""End to end: the real dvc.yaml and params.yaml, shrunk to a tiny synthetic set, run by DVC itself."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from dvc.repo import Repo

from fer_pipeline import SYNTHETIC_BANNER
from fer_pipeline.metrics import headline
from tools.plan import DATA_DVCFILE

from .dvcproject import ACTIVATIONS, ENV, FACTORIAL_STAGES, STUDY_RUNS, VARIANTS, ran, set_param, sh, stale, tiny_copy

EVALUATED = ("baseline", "cnn")  # the evaluate stage's runs: each has a `dvc metrics show` file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny copy after one uninterrupted `dvc repro`."""
    dst = tiny_copy(tmp_path_factory.mktemp("project"))
    out = sh(dst, "dvc", "repro")
    assert "SYNTHETIC" in out  # the fetch stage warns loudly that it generated the data
    return dst



def test_repro_writes_every_output_and_is_up_to_date(project: Path) -> None:
    """After `dvc repro` every declared output exists and `dvc status` reports nothing to do."""
    expected = ["data/fetch/dataset.npz", "data/fetch/duplicates.npz", "data/fetch/manifest.json",
                "data/preprocess/normalization.json", "data/split/indices.npz", "plots/baseline/curves.png",
                "plots/baseline/grid.png", "plots/baseline/confusion.png", "data/choose/choice.json",
                "data/stats/stats.json", "plots/study/variants.csv", "reports/study.md", "reports/recall_heatmap.png",
                "reports/integrated_confusion.png"]
    expected += ["metrics/study/integrated.json", *(f"metrics/evaluate/{v}.json" for v in EVALUATED)]
    for v in VARIANTS:
        expected += [f"data/train/{v}/model.pt", f"data/train/{v}/run.json", f"metrics/train/{v}/metrics.json",
                     f"data/evaluate/{v}/scores.json", f"data/evaluate/{v}/predictions.csv", f"data/evaluate/{v}/report.json"]
    points = (json.loads((project / "data/choose/choice.json").read_text())["factorial"] or {}).get("points", [])
    for stage in FACTORIAL_STAGES:  # a new point is trained with the study's seed, else the stage says why not
        i = int(stage.split("@")[1])
        expected += ([f"data/train/factorial/{i}/s0/model.pt", f"data/evaluate/factorial/{i}/s0/scores.json"]
                     if i < len(points) and not points[i]["reuses"] else [f"data/train/factorial/{i}/skipped.json"])
    expected += ["data/design/design.json", "data/replicate/replication.json", "data/train/replicate/skipped.json"]
    missing = [p for p in expected if not (project / p).is_file()]
    assert not missing
    assert stale(project) == set()


# What a `dvc repro` leaves that no stage declares, by design: DVC's and git's own folders, the lock DVC writes,
# the .gitignore entries DVC adds for outputs, and the bytecode of the stage modules run in the copy.
NOT_STAGE_FILES = (".git/", ".dvc/", "dvc.lock")


def undeclared_files(project: Path) -> list[str]:
    """Files in the workspace that are neither tracked by git nor under an output (outs, metrics or plots) that a
    stage of dvc.yaml declares, as DVC resolves them."""
    with Repo(str(project)) as repo:
        declared = {out.def_path for stage in repo.index.stages for out in stage.outs}
    tracked = set(sh(project, "git", "ls-files").splitlines())
    found = []
    for path in project.rglob("*"):
        rel = path.relative_to(project).as_posix()
        if (not path.is_file() or rel in tracked or rel.startswith(NOT_STAGE_FILES) or path.name == ".gitignore"
                or "__pycache__" in path.parts):
            continue
        if not any(rel == out or rel.startswith(out.rstrip("/") + "/") for out in declared):
            found.append(rel)
    return sorted(found)


def test_every_file_written_is_a_declared_output(project: Path) -> None:
    """Every file the stages wrote during `dvc repro` lies under an output dvc.yaml declares, so the run-cache,
    `dvc push` and `dvc pull` carry all of it (an undeclared figure would be missing after a pull)."""
    assert undeclared_files(project) == []


def test_metrics_in_range_and_marked_synthetic(project: Path) -> None:
    """Test scores are valid fractions above chance, every metrics file holds the headline and says the data are
    synthetic, and so do the scores files and the report."""
    for v in VARIANTS:
        m = json.loads((project / f"data/evaluate/{v}/scores.json").read_text())
        assert m["data"] == SYNTHETIC_BANNER
        if v in EVALUATED:  # the evaluate stage's models; a study run has no metrics file of its own
            assert json.loads((project / f"metrics/evaluate/{v}.json").read_text()) == headline(
                SYNTHETIC_BANNER, m["test"], m["test_dedup"])
        for key in ("accuracy", "macro_recall", "macro_f1", "balanced_accuracy"):
            assert 0.0 <= m["test"][key] <= 1.0
        assert m["test"]["images"] == 300
        assert m["test_dedup"]["images"] < 300  # the generator plants train->test copies
        assert json.loads((project / f"metrics/train/{v}/metrics.json").read_text())["data"] == SYNTHETIC_BANNER
    relu_like = json.loads((project / "metrics/evaluate/baseline.json").read_text())
    assert relu_like["macro_recall"] > 1 / 7 + 0.1
    report = (project / "reports/study.md").read_text()
    assert SYNTHETIC_BANNER in report and "**Conclusion.**" in report
    assert json.loads((project / "metrics/study/integrated.json").read_text())["data"] == SYNTHETIC_BANNER
    manifest = json.loads((project / "data/fetch/manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["source"] == "synthetic"


def study_stages(skip: tuple[str, ...] = ()) -> set[str]:
    """The study stages (study_<axis>[@value]) whose axis is not in skip."""
    return {stage for stage in STUDY_RUNS if stage.split("@")[0].removeprefix("study_") not in skip}


SUMMARY = {"choose", "design", "stats", "replicate", "report"}  # the stages that read the whole study section
PRESETS = {"choose", "design", "stats", "replicate"}  # the stages that read the whole presets section


@pytest.mark.parametrize(("key", "value", "expected"), [
    # the baseline (model/train) is free for `dvc exp run`: the study does not move with it
    ("model.activation", "tanh", {"train"}),
    ("model.hidden", [16], {"train"}),
    ("train.lr", 0.01, {"train"}),
    # where runs execute is shared by every training stage; the study trains one process per run
    # (replicate too: it trains when study.replicate_seeds asks it to)
    ("runtime.device", "cpu", {"train", "evaluate", "train_cnn", "evaluate_cnn", "replicate"} | study_stages()
     | FACTORIAL_STAGES),
    ("runtime.processes", 2, {"train", "train_cnn"}),
    # the study's base: every axis reruns except the one that sweeps the key; the factorial takes every factor
    # from choice.json, so only study.train moves it; choose checks the axes against the base (nothing trained
    # twice), and choose, design, stats, replicate and report read the whole study section, base and train included
    ("study.base.activation", "tanh", study_stages(("activation", "depth")) | SUMMARY),
    ("study.base.batch_size", 16, study_stages(("batch_size",)) | SUMMARY),
    ("presets.optimizers.adam.lr", 0.01, study_stages(("optimizer",)) | PRESETS),
    ("presets.architectures.mlp1.hidden", [48], study_stages(("architecture",)) | PRESETS),
    ("presets.optimizers.sgd.lr", 0.05, {"study_optimizer@sgd"} | PRESETS),
    ("split.valid_fraction", 0.25, {f"{DATA_DVCFILE}:split", "release"}),  # the model card states the train/valid shares
    ("preprocess.normalize", "standardize", {f"{DATA_DVCFILE}:preprocess"}),
    ("data.synthetic.seed", 1, {f"{DATA_DVCFILE}:fetch"}),  # as dvc status names them
    ("plot.grid_images", 9, {"plot", "plot_cnn"}),
    # the cnn recipe is its own section: it moves alone
    ("cnn.train.lr", 0.01, {"train_cnn"}),
    ("cnn.train.augment", "none", {"train_cnn"}),
    ("study.train.augment", "flip_shift", study_stages() | FACTORIAL_STAGES | SUMMARY),
    # adding a value adds its stage; choose/stats/report read the whole study section
    ("study.activations", [*ACTIVATIONS, "leaky_relu"], {"study_activation@leaky_relu"} | SUMMARY),
    # a study stage trains all its variant's seeds: adding one reruns each axis variant and the factorial
    # (study.cnn_seeds, a subset of these, cannot change alone in the one-seed copy; the stage contract test
    # proves which stages read it)
    ("study.seeds", [0, 1], study_stages() | FACTORIAL_STAGES | SUMMARY),
])
def test_param_change_marks_exactly_its_stages(project: Path, key: str, value: object, expected: set[str]) -> None:
    """Changing one param makes exactly the stages that read it stale (matrix stages ignore the swept key)."""
    original = (project / "params.yaml").read_text()
    try:
        set_param(project, key, value)
        assert stale(project) == expected
    finally:
        (project / "params.yaml").write_text(original)
    assert stale(project) == set()


def scores(project: Path, variant: str) -> dict:
    """The numeric sections of a variant's scores file."""
    m = json.loads((project / f"data/evaluate/{variant}/scores.json").read_text())
    return {k: m[k] for k in ("test", "test_dedup", "recall")}


def test_killed_repro_resumes_to_the_same_metrics(project: Path, tmp_path: Path) -> None:
    """SIGKILL in the middle of a train stage, then `dvc repro` again: it completes with the uninterrupted metrics."""
    copy = tiny_copy(tmp_path / "killed")
    proc = subprocess.Popen(["dvc", "repro"], cwd=copy, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    first_epoch = copy / "metrics/train/baseline/metrics.json"  # DVCLive writes it after each epoch
    deadline = time.monotonic() + 300
    while not first_epoch.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "dvc repro ended before the train stage could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (copy / "data/train/baseline/model.pt").exists()  # killed before the checkpoint was written
    sh(copy, "dvc", "repro")
    assert stale(copy) == set()
    for v in VARIANTS:
        assert scores(copy, v) == scores(project, v)


def test_run_cache_restores_without_retraining(project: Path) -> None:
    """After switching a param to a new value and back, `dvc repro` restores the outputs without retraining."""
    original = (project / "params.yaml").read_text()
    before = (project / "data/train/baseline/model.pt").read_bytes()
    set_param(project, "train.lr", 0.005)
    assert ran(sh(project, "dvc", "repro", "train")) == {"train"}
    assert (project / "data/train/baseline/model.pt").read_bytes() != before
    (project / "params.yaml").write_text(original)
    out = sh(project, "dvc", "repro", "train")
    assert ran(out) == set() and "Stage 'train' is cached - skipping run, checking out outputs" in out
    assert (project / "data/train/baseline/model.pt").read_bytes() == before
    sh(project, "dvc", "repro")  # evaluate and the rest see their inputs back and restore likewise
    assert stale(project) == set()


def test_forced_rerun_is_bit_identical(project: Path) -> None:
    """Two full `dvc repro --force` runs give byte-identical weights, predictions, metrics and training logs."""
    def digests() -> dict[str, str]:
        files = [f"data/train/{v}/model.pt" for v in VARIANTS] + [f"data/evaluate/{v}/predictions.csv" for v in VARIANTS]
        files += [f"data/evaluate/{v}/scores.json" for v in VARIANTS] + [f"metrics/evaluate/{v}.json" for v in EVALUATED]
        files += ["data/fetch/dataset.npz", "data/split/indices.npz"]
        files += [p.relative_to(project).as_posix() for p in sorted((project / "metrics/train").rglob("*.tsv"))]
        return {f: hashlib.sha256((project / f).read_bytes()).hexdigest() for f in files}

    first = digests()
    sh(project, "dvc", "repro", "--force")
    assert digests() == first


def test_metrics_show_fits_a_terminal(project: Path) -> None:
    """`dvc metrics show` prints the headline only: after the whole pipeline at most 160 columns, and the baseline's
    file alone (all that `dvc repro plot` leaves) at most 120, the synthetic banner included."""
    whole = sh(project, "dvc", "metrics", "show").splitlines()
    first = sh(project, "dvc", "metrics", "show", "metrics/evaluate/baseline.json").splitlines()
    assert len(whole) >= 4 and max(map(len, whole)) <= 160, whole  # the header and three rows: baseline, cnn, study
    assert max(map(len, first)) <= 120, first


def test_exp_run_reruns_only_baseline_and_metrics_diff_shows_it(project: Path) -> None:
    """`dvc exp run -S model.activation=tanh` reruns only the baseline's stages; `dvc metrics diff` lists its recall."""
    sh(project, "git", "add", "-A")
    sh(project, "git", "commit", "-qm", "results")
    out = sh(project, "dvc", "exp", "run", "-S", "model.activation=tanh")
    assert ran(out) == {"train", "evaluate", "plot"}
    diff = json.loads(sh(project, "dvc", "metrics", "diff", "--json"))
    assert "macro_recall" in diff["metrics/evaluate/baseline.json"]
    change = diff["metrics/evaluate/baseline.json"]["macro_recall"]
    assert change["new"] != change["old"]


def test_plots_show_writes_html(project: Path) -> None:
    """`dvc plots show` renders every declared plot into one HTML page."""
    sh(project, "dvc", "plots", "show")
    html = (project / "dvc_plots" / "index.html").read_text()
    assert "vega" in html.lower()
    assert html.count("<img") >= 3 + 2 + 2 * 7  # baseline curves/confusion/grid; the report's heatmap, confusion, 7 axes x 2
