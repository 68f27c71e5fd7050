"""Benchmarks of the parts a user waits for, each against a baseline measured in the same run.

    python bench/run.py                      # real archive (../shared/data/fer2013/archive.zip or --archive)
    python bench/run.py --smoke              # a small generated archive: proves the scripts work (CI)
    python bench/run.py --only data          # only some groups of rows: data, training, dvc, recipe, gpu, fanout

Writes bench/results.json and prints a table: figure, baseline, ratio, goal. Machines are
noisy, so every goal is a ratio against a baseline timed in the same process, except the
`dvc status` figures, whose goal is what a user waits (seconds), and the stages' import times, stated in
seconds after subtracting a bare interpreter start timed in the same run.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from fer_pipeline import CLASSES
from fer_pipeline.analysis.variants import model_and_train
from fer_pipeline.cli import stage_command
from fer_pipeline.params import ParamsFile, load_params

ROOT = Path(__file__).resolve().parents[1]
DATA_TARGET = "data/dvc.yaml:preprocess"  # the data stages' own dvc.yaml (tools/plan.py DATA_DVCFILE), up to preprocess
GROUPS = ("data", "training", "dvc", "recipe", "gpu", "fanout")  # --only: row groups, in the order they run


def timed(fn, repeat: int = 1) -> float:
    """Best wall time of `repeat` calls (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bare_decode(archive: Path) -> np.ndarray:
    """The floor for fetch: decode every JPEG in the zip with PIL into one uint8 array, nothing else."""
    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if n.endswith(".jpg")]
        out = np.empty((len(names), 48, 48), np.uint8)
        for i, name in enumerate(names):
            out[i] = np.asarray(Image.open(io.BytesIO(zf.read(name))))
    return out


# Starts one command and prints its wall seconds and peak RSS (KiB). A child's peak counts the memory of the
# process it was started from, so stages are started from this small interpreter, not from the bench (torch loaded).
MEASURE = """import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(json.dumps([time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"""


def run_stage(stage: str, cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in GiB) of one stage script run as DVC runs it."""
    cmd, env = stage_command(stage, code_root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    wall, peak_kib = json.loads(out.stdout)
    return wall, peak_kib / 2**20


def bench_fetch(archive: Path, work: Path, bare: float) -> list[dict]:
    """Target 1: fetch + preprocess within 1.5x of the bare decode loop, each stage under 1 GiB peak. split runs
    between them (preprocess reads its train rows) and is not counted: target 1 is reading and scaling the data."""
    params = (ROOT / "params.yaml").read_text().replace("path: data/raw", f"path: {archive}")
    (work / "params.yaml").write_text(params)
    fetch_s, fetch_gib = run_stage("fetch", work)
    run_stage("split", work)
    pre_s, pre_gib = run_stage("preprocess", work)
    return [
        {"target": "1 fetch+preprocess time", "figure_s": round(fetch_s + pre_s, 2), "baseline": "bare PIL decode loop",
         "baseline_s": round(bare, 2), "ratio": round((fetch_s + pre_s) / bare, 2), "goal": "<= 1.5"},
        {"target": "1 peak memory (fetch, preprocess)", "figure_gib": [round(fetch_gib, 2), round(pre_gib, 2)],
         "goal": "<= 1 GiB each", "met": max(fetch_gib, pre_gib) <= 1.0},
    ]


def start_seconds(code: str, cwd: Path, repeat: int) -> float:
    """Best wall time of `python -c <code>` in a fresh interpreter that imports this checkout's code."""
    _, env = stage_command("fetch", code_root=str(ROOT))  # the PYTHONPATH a stage runs with
    return timed(lambda: subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=True), repeat=repeat)


def bench_imports(work: Path, repeat: int) -> list[dict]:
    """Target 1: each data stage's module imports in <= 1 s: `python -c 'import stages.X'` less a bare
    `python -c pass` timed in the same run (best of `repeat` each)."""
    bare = start_seconds("pass", work, repeat)
    rows = []
    for stage in ("fetch", "preprocess", "split"):
        secs = start_seconds(f"import stages.{stage}", work, repeat) - bare
        rows.append({"target": f"1 import time, stages.{stage}", "figure_s": round(secs, 2), "baseline": "python -c pass",
                     "baseline_s": round(bare, 2), "goal": "<= 1 s"})
    return rows


def scratch_copy(dst: Path, archive: Path, lock: bool = False) -> Path:
    """A fresh git+DVC copy of this checkout's files (tracked and untracked, not ignored; the lock files, dvc.lock and
    data/dvc.lock, only with `lock`; no DVC cache), with data/raw/archive.zip a link to `archive`: what a user has
    after cloning and adding the data (a clone has the committed locks, which DVC reads and rewrites after each
    stage)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    for rel in files:
        if (lock or Path(rel).name != "dvc.lock") and (ROOT / rel).is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dst / rel)
    (dst / "data/raw").mkdir(parents=True, exist_ok=True)
    (dst / "data/raw/archive.zip").symlink_to(archive.resolve())
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "scratch copy"]):
        subprocess.run(cmd, cwd=dst, env=env, check=True, capture_output=True)
    return dst


def dvc_command() -> list[str]:
    """`dvc` of this interpreter's environment (the one the pipeline is installed in)."""
    exe = Path(sys.executable).with_name("dvc")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "dvc"]


def bench_repro_copy(archive: Path, work: Path, bare: float, repeat: int, lock: bool = False) -> list[dict]:
    """Target 1, as a user meets it: `dvc repro data/dvc.yaml:preprocess` (fetch, split and preprocess, DVC's hashing
    and caching included) in a fresh scratch copy, with the committed lock files or without them, against the bare
    decode loop; best of `repeat` fresh copies."""
    # the stages' `python` is this interpreter, as with an activated environment
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    best = float("inf")
    for i in range(repeat):
        copy = scratch_copy(work / f"repro-copy-{i}", archive, lock)
        start = time.perf_counter()
        subprocess.run([*dvc_command(), "repro", DATA_TARGET], cwd=copy, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
        shutil.rmtree(copy)
    what = "fresh clone, with the locks" if lock else "fresh copy, no lock"
    return [{"target": f"1 dvc repro {DATA_TARGET}, {what}", "figure_s": round(best, 2), "baseline": "bare PIL decode loop",
             "baseline_s": round(bare, 2), "ratio": round(best / bare, 2), "goal": "<= 1.5"}]


def bare_simplejpeg_decode(archive: Path) -> np.ndarray:
    """bare_decode with fetch's decoder (libjpeg-turbo through simplejpeg) instead of PIL: the floor of fetch's own
    decoding in one process, no checks."""
    import simplejpeg

    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if n.endswith(".jpg")]
        out = np.empty((len(names), 48, 48), np.uint8)
        for i, name in enumerate(names):
            out[i] = simplejpeg.decode_jpeg(zf.read(name), colorspace="GRAY")[:, :, 0]
    return out


def bench_read_archive(archive: Path, bare: float) -> list[dict]:
    """Target 1's context. The baseline (the issue's) is a PIL loop, but fetch decodes with simplejpeg, in one
    thread per usable core: these rows say how much each gives, the decoder alone (one thread, no checks) and
    read_archive as fetch calls it (name checks and PIL's rules included)."""
    from fer_pipeline.data.sources import read_archive, usable_cores

    decoder = timed(lambda: bare_simplejpeg_decode(archive), repeat=2)
    secs = timed(lambda: read_archive(archive), repeat=2)
    return [{"target": "1 bare simplejpeg decode loop", "figure_s": round(decoder, 2), "baseline": "bare PIL decode loop",
             "baseline_s": round(bare, 2), "ratio": round(bare / decoder, 2), "goal": "context (speed-up)", "met": None},
            {"target": f"1 read_archive, {usable_cores()} decoding threads", "figure_s": round(secs, 2),
             "baseline": "bare PIL decode loop", "baseline_s": round(bare, 2), "ratio": round(bare / secs, 2),
             "goal": ">= 1 (speed-up)"}]


def bench_data(archive: Path, work: Path, smoke: bool) -> list[dict]:
    """Target 1's rows: fetch + preprocess and `dvc repro data/dvc.yaml:preprocess` in a scratch copy against the bare decode loop
    (timed once, here), each stage's peak memory, each data stage's import time, and read_archive's speed-up."""
    bare = timed(lambda: bare_decode(archive), repeat=2)
    return (bench_read_archive(archive, bare) + bench_fetch(archive, work, bare) + bench_imports(work, repeat=3 if smoke else 5)
            + bench_repro_copy(archive, work, bare, repeat=1 if smoke else 3)
            + bench_repro_copy(archive, work, bare, repeat=1 if smoke else 3, lock=True))


def mlp_batches_pipeline(x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    """Seconds for `steps` MLP steps through the pipeline's own train_one_epoch (tensor slicing)."""
    from fer_pipeline.training.models import build_model
    from fer_pipeline.training.train import BatchSource, make_criterion, make_optimizer, train_one_epoch

    p = load_params(ROOT / "params.yaml")
    model = build_model(p.model)
    opt = make_optimizer(model, p.train)
    cpu = torch.device("cpu")
    batches = BatchSource(x, y, 32, torch.Generator().manual_seed(0))
    criterion = make_criterion(None, 0.0, cpu)
    return timed(lambda: train_one_epoch(model, criterion, opt, batches.epoch(steps), cpu))


def mlp_batches_imagefolder(folder: Path, steps: int) -> float:
    """Seconds for `steps` MLP steps fed the original study's way: ImageFolder + DataLoader + PIL + ToTensor."""
    from torchvision import datasets, transforms

    from fer_pipeline.training.models import build_model
    from fer_pipeline.training.train import make_optimizer

    p = load_params(ROOT / "params.yaml")
    model = build_model(p.model)
    opt = make_optimizer(model, p.train)
    ds = datasets.ImageFolder(folder, transform=transforms.Compose([transforms.Grayscale(), transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    loss_fn = torch.nn.CrossEntropyLoss()

    def loop() -> None:
        model.train()
        for i, (xb, yb) in enumerate(loader):
            if i == steps:
                break
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()

    return timed(loop)


def cnn_images_per_s(x: torch.Tensor, y: torch.Tensor, steps: int) -> tuple[float, float]:
    """(pipeline, bare) training images/s of the cnn recipe: train_one_epoch as the recipe runs it (batch
    augmentation, label smoothing) vs a bare forward/backward loop over pre-made batches."""
    from fer_pipeline.training.models import build_model
    from fer_pipeline.training.train import BatchSource, make_criterion, make_optimizer, train_one_epoch

    p = load_params(ROOT / "params.yaml", start="cnn")
    bs = p.train.batch_size
    torch.manual_seed(0)
    model = build_model(p.model).to(memory_format=torch.channels_last)  # as fit() lays it out
    opt = make_optimizer(model, p.train)
    cpu = torch.device("cpu")
    n = steps * bs
    batches = BatchSource(x[:n], y[:n], bs, torch.Generator().manual_seed(0), augment=p.train.augment)
    criterion = make_criterion(None, p.train.label_smoothing, cpu)
    pipe = timed(lambda: train_one_epoch(model, criterion, opt, batches.epoch(), cpu))
    batches = [(x[i:i + bs].contiguous(memory_format=torch.channels_last), y[i:i + bs].clone()) for i in range(0, n, bs)]
    return n / pipe, n / timed(bare_loop(model, opt, batches))


def bare_loop(model: torch.nn.Module, opt: torch.optim.Optimizer, batches: list) -> Callable[[], None]:
    """One pass of plain forward/backward/step over pre-made (x, y) batches: the baseline of the cnn rows."""
    loss_fn = torch.nn.CrossEntropyLoss()

    def loop() -> None:
        model.train()
        for xb, yb in batches:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()

    return loop


def extract_train(archive: Path, dest: Path, limit: int) -> None:
    """Write up to `limit` train JPEGs per class to dest/<class>/ (names checked: nothing lands outside)."""
    with zipfile.ZipFile(archive) as zf:
        per_class = dict.fromkeys(CLASSES, 0)
        for name in sorted(zf.namelist()):
            parts = name.split("/")
            if len(parts) != 3 or parts[0] != "train" or parts[1] not in CLASSES or ".." in parts or not parts[2]:
                continue
            if per_class[parts[1]] >= limit:
                continue
            per_class[parts[1]] += 1
            target = dest / parts[1] / parts[2]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(name))


# Trains the base MLP (params.yaml's model and train) for two epochs over the tensors in argv[2] with denormals
# flushed or kept (argv[1]); prints the second epoch's seconds (when Adam's state has decayed into denormals) and a
# hash of the final weights. A fresh process each: the flag must be set before torch starts its threads.
DENORMALS = """import hashlib, json, sys, time, torch
import fer_pipeline.training  # sets the flush (fer_pipeline/training/__init__.py)
torch.set_flush_denormal(sys.argv[1] == "flush")
from fer_pipeline.params import load_params
from fer_pipeline.training.models import build_model
from fer_pipeline.training.train import BatchSource, make_criterion, make_optimizer, train_one_epoch
x, y = torch.load(sys.argv[2], weights_only=True)
p, cpu = load_params(sys.argv[3]), torch.device("cpu")
torch.manual_seed(0)
model = build_model(p.model)
opt = make_optimizer(model, p.train)
batches = BatchSource(x, y, p.train.batch_size, torch.Generator().manual_seed(0))
criterion = make_criterion(None, 0.0, cpu)
train_one_epoch(model, criterion, opt, batches.epoch(), cpu)
start = time.perf_counter()
train_one_epoch(model, criterion, opt, batches.epoch(), cpu)
seconds = time.perf_counter() - start
digest = hashlib.sha256(b"".join(t.numpy().tobytes() for t in model.state_dict().values())).hexdigest()
print(json.dumps([seconds, digest]))"""


def bench_denormals(x: torch.Tensor, y: torch.Tensor, work: Path) -> list[dict]:
    """The base MLP's second training epoch (one thread, the whole train split) with denormals flushed, as every
    training process runs, against kept, each in a fresh process; the note says whether the weights came out equal."""
    tensors = work / "train_tensors.pt"
    torch.save((x, y), tensors)
    _, env = stage_command("train", code_root=str(ROOT))
    env = {**env, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # as a fan-out worker trains the study's MLPs
    runs = {}
    for mode in ("flush", "keep"):
        out = subprocess.run([sys.executable, "-c", DENORMALS, mode, str(tensors), str(ROOT / "params.yaml")], env=env,
                             check=True, capture_output=True, text=True).stdout
        runs[mode] = json.loads(out.splitlines()[-1])
    same = runs["flush"][1] == runs["keep"][1]
    return [{"target": "2 base MLP epoch 2, denormals flushed", "figure_s": round(runs["flush"][0], 2),
             "baseline": "denormals kept", "baseline_s": round(runs["keep"][0], 2),
             "ratio": round(runs["keep"][0] / runs["flush"][0], 2), "goal": ">= 1 (speed-up)",
             "note": f"final weights {'bit-identical' if same else 'differ'}"}]


def bench_training(archive: Path, work: Path, steps: int) -> list[dict]:
    """Targets 2: MLP input path >= 5x the ImageFolder way; CNN loop >= 85% of a bare loop."""
    from fer_pipeline.data.sources import read_archive

    ds = read_archive(archive)
    train = ds.split == "train"
    x = torch.from_numpy(ds.images[train].astype(np.float32) / 255).reshape(-1, 1, 48, 48)
    y = torch.from_numpy(ds.labels[train])
    extract_train(archive, work / "imagefolder", limit=10**9)
    pipe = mlp_batches_pipeline(x, y, steps)
    base = mlp_batches_imagefolder(work / "imagefolder", steps)
    cnn_pipe, cnn_bare = cnn_images_per_s(x, y, max(steps // 4, 5))
    layout = bench_layout(x, y, max(steps // 8, 3))
    return layout + bench_denormals(x, y, work) + [
        {"target": f"2 MLP, {steps} steps at batch 32", "figure_s": round(pipe, 3), "baseline": "ImageFolder+DataLoader+PIL+ToTensor",
         "baseline_s": round(base, 3), "ratio": round(base / pipe, 1), "goal": ">= 5 (speed-up)"},
        {"target": "2 CNN recipe training images/s", "figure": round(cnn_pipe, 1), "baseline": "bare fwd/bwd over pre-made batches",
         "baseline_value": round(cnn_bare, 1), "ratio": round(cnn_pipe / cnn_bare, 3), "goal": ">= 0.85"},
    ]


def layout_images_per_s(mp, tp, x: torch.Tensor, y: torch.Tensor, steps: int, channels_last: bool) -> float:
    """Training images/s of a model over pre-made batches of tp.batch_size, in one memory layout."""
    from fer_pipeline.training.models import build_model
    from fer_pipeline.training.train import make_optimizer

    fmt = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(0)
    model = build_model(mp).to(memory_format=fmt)
    opt = make_optimizer(model, tp)
    bs = tp.batch_size
    batches = [(x[i:i + bs].contiguous(memory_format=fmt), y[i:i + bs]) for i in range(0, steps * bs, bs)]
    loop = bare_loop(model, opt, batches)
    loop()  # warm-up: the first steps pay for allocations
    return steps * bs / timed(loop)


def bench_layout(x: torch.Tensor, y: torch.Tensor, steps: int) -> list[dict]:
    """Channels-last on CPU, per CNN of the project (the recipe, the study's compact cnn preset): training images/s
    with channels-last batches and weights (what fit does) against the default layout, in the same run."""
    p = load_params(ROOT / "params.yaml", start="cnn")
    study_cnn = model_and_train(ParamsFile(ROOT / "params.yaml"), "study", ["architecture=cnn"], None, ["train.seed=0"])
    nets = {"cnn recipe": (p.model, p.train), "study cnn preset": study_cnn}
    rows = []
    for name, (mp, tp) in nets.items():
        plain = layout_images_per_s(mp, tp, x, y, steps, channels_last=False)
        last = layout_images_per_s(mp, tp, x, y, steps, channels_last=True)
        rows.append({"target": f"3 channels-last images/s, {name}", "figure": round(last, 1), "baseline": "default layout",
                     "baseline_value": round(plain, 1), "ratio": round(last / plain, 2), "goal": ">= 1 (kept if faster)"})
    return rows


def bench_recipe() -> list[dict]:
    """Target 3: the cnn recipe's test scores and training time, from its last `dvc repro` (train_cnn, evaluate_cnn)."""
    metrics, run = ROOT / "metrics/evaluate/cnn.json", ROOT / "data/train/cnn/run.json"
    if not (metrics.is_file() and run.is_file()):
        return [{"target": "3 cnn recipe (test acc, macro recall, minutes)", "figure": None, "met": None,
                 "goal": ">= 0.66, >= 0.62, <= 30", "note": "not run here: `dvc repro evaluate_cnn` first"}]
    m, r = json.loads(metrics.read_text()), json.loads(run.read_text())
    acc, recall, minutes = m["accuracy"], m["macro_recall"], r["wall_time_s"] / 60  # the headline (metrics.headline)
    return [{"target": "3 cnn recipe (test acc, macro recall, minutes)", "figure": [round(acc, 4), round(recall, 4), round(minutes, 1)],
             "goal": ">= 0.66, >= 0.62, <= 30", "met": acc >= 0.66 and recall >= 0.62 and minutes <= 30,
             "note": f"{r['epochs_trained']} epochs, stopped by {r.get('stop_reason', '?')}, device {r.get('device', '?')}, "
                     f"data {m.get('data', '?')}"}]


def _recipe_rate(p, dev: torch.device, x: torch.Tensor, y: torch.Tensor) -> float:
    """Training images/s of the cnn recipe's model and loop on one device (after a warm-up)."""
    from fer_pipeline.training.models import build_model
    from fer_pipeline.training.train import BatchSource, make_criterion, make_optimizer, train_one_epoch

    model = build_model(p.model).to(dev)
    if dev.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    opt = make_optimizer(model, p.train)
    x, y = x.to(dev), y.to(dev)
    batches = BatchSource(x, y, p.train.batch_size, torch.Generator().manual_seed(0), augment=p.train.augment)
    criterion = make_criterion(None, p.train.label_smoothing, dev)

    def epoch() -> None:
        train_one_epoch(model, criterion, opt, batches.epoch(), dev)
        if dev.type == "cuda":
            torch.cuda.synchronize()

    train_one_epoch(model, criterion, opt, batches.epoch(5), dev)  # warm-up
    return len(x) / timed(epoch)


def bench_gpu() -> list[dict]:
    """Target 5: recipe images/s on CUDA (bf16, channels-last) against the same steps on this CPU; skipped without a GPU."""
    if not torch.cuda.is_available():
        return [{"target": "5 GPU cnn recipe", "figure": None, "met": None, "goal": "measured when a GPU is present",
                 "note": "no CUDA device on this machine"}]
    p = load_params(ROOT / "params.yaml", start="cnn")
    x = torch.rand(64 * 200, 1, 48, 48)
    y = torch.randint(0, 7, (len(x),))
    rates = {"cuda": _recipe_rate(p, torch.device("cuda"), x, y), "cpu": _recipe_rate(p, torch.device("cpu"), x[: 64 * 20], y[: 64 * 20])}
    return [{"target": "5 GPU cnn recipe images/s", "figure": round(rates["cuda"], 1), "baseline": "same steps on this CPU",
             "baseline_value": round(rates["cpu"], 1), "ratio": round(rates["cuda"] / rates["cpu"], 1), "goal": ">= 1 (faster)",
             "note": torch.cuda.get_device_name()}]


def bench_dvc() -> list[dict]:
    """Target 4: `dvc status` and `dvc repro` with nothing changed, in this repo (seconds)."""
    rows = []
    for cmd in (["dvc", "status"], ["dvc", "repro"]):
        secs = timed(lambda cmd=cmd: subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True), repeat=3)
        rows.append({"target": f"4 {' '.join(cmd)} (nothing changed)", "figure_s": round(secs, 2), "goal": "<= 3 s"})
    return rows


FANOUT_STAGES = ("study_base", "study_activation@sigmoid", "study_activation@leaky_relu", "study_activation@tanh")


def study_command(stage: str, params: Path) -> list[str]:
    """A study stage's command as dvc.yaml runs it, reading `params` instead of params.yaml."""
    import shlex

    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        cmd = next(s.cmd for s in repo.index.stages if s.addressing == stage)
    return [*shlex.split(cmd), "--params", str(params)]


def run_share(stages: list[str], params: Path, cwd: Path) -> subprocess.Popen:
    """One worker: its share of study stages one after the other, in one shell, as a fan-out worker runs them."""
    script = " && ".join(shlex_join(study_command(s, params)) for s in stages)
    cmd, env = stage_command("study", code_root=str(ROOT))  # the environment a stage runs in (this checkout's code)
    return subprocess.Popen(["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def shlex_join(words: list[str]) -> str:
    import shlex

    return shlex.join([sys.executable if w == "python" else w for w in words])


def bench_fanout(archive: Path, work: Path, smoke: bool) -> list[dict]:
    """The fan-out's premise (issue 19): the study's MLP stages FANOUT_STAGES (2 seeds each: study.seeds [0, 1]) as 2
    workers of 1 torch thread each, running at once on alternate stages, against 1 worker of 2 threads running
    them all; data stages run once, first. Ratio: the one worker's wall time over the two workers'."""
    copy = scratch_copy(work / "fanout", archive)
    for stage in ("fetch", "split", "preprocess"):
        run_stage(stage, copy)
    import yaml

    files = {}
    for threads in (1, 2):
        params = yaml.safe_load((copy / "params.yaml").read_text())
        params["runtime"]["threads"] = threads
        params["study"]["seeds"], params["study"]["cnn_seeds"] = [0, 1], [0]
        if smoke:
            params["study"]["train"]["max_epochs"] = 2
        files[threads] = copy / f"params-{threads}t.yaml"
        files[threads].write_text(yaml.safe_dump(params, sort_keys=False))
    stages = list(FANOUT_STAGES)

    def one() -> None:
        proc = run_share(stages, files[2], copy)
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]

    def two() -> None:
        procs = [run_share(stages[i::2], files[1], copy) for i in range(2)]
        for proc in procs:
            _, err = proc.communicate()
            assert proc.returncode == 0, err.decode()[-2000:]

    single, fanned = timed(one), timed(two)
    return [{"target": f"6 fan-out: {len(stages)} MLP study stages x 2 seeds, 2 workers x 1 thread", "figure_s": round(fanned, 1),
             "baseline": "1 worker x 2 threads", "baseline_s": round(single, 1), "ratio": round(single / fanned, 2),
             "goal": ">= 1 (speed-up)"}]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def smoke_archive(path: Path) -> Path:
    """A small msambare-layout zip of generated faces, for the CI smoke run."""
    from fer_pipeline.data.synthetic import generate

    ds = generate(280, 70, 0, 0.0)
    with zipfile.ZipFile(path, "w") as zf:
        for i, (img, label, split) in enumerate(zip(ds.images, ds.labels, ds.split, strict=True)):
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="JPEG", quality=95)
            zf.writestr(f"{split}/{CLASSES[label]}/{i:05d}.jpg", buf.getvalue())
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", type=Path, default=ROOT.parent / "shared/data/fer2013/archive.zip")
    ap.add_argument("--smoke", action="store_true", help="tiny generated archive; proves the scripts run")
    ap.add_argument("--steps", type=int, default=400, help="training steps per timed loop")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    ap.add_argument("--no-dvc", action="store_true", help="skip the dvc status/repro rows of this repository (e.g. while "
                    "a repro runs); the data rows' `dvc repro` in a scratch copy still runs")
    ap.add_argument("--only", action="append", choices=GROUPS, metavar="GROUP",
                    help=f"run only this group of rows (repeatable): {', '.join(GROUPS)}")
    args = ap.parse_args()
    groups = set(args.only or GROUPS) - ({"dvc", "recipe", "gpu"} if args.smoke else set()) - ({"dvc"} if args.no_dvc else set())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        archive = smoke_archive(work / "smoke.zip") if args.smoke else args.archive
        steps = 5 if args.smoke else args.steps
        rows = bench_data(archive, work, args.smoke) if "data" in groups else []
        rows += bench_training(archive, work, steps) if "training" in groups else []
        rows += bench_dvc() if "dvc" in groups else []
        rows += bench_recipe() if "recipe" in groups else []
        rows += bench_gpu() if "gpu" in groups else []
        rows += bench_fanout(archive, work, args.smoke) if "fanout" in groups else []
    for row in rows:
        if "met" in row:
            continue
        if "ratio" in row:
            bound = float(row["goal"].split()[1])
            row["met"] = row["ratio"] <= bound if row["goal"].startswith("<=") else row["ratio"] >= bound
        elif "figure_s" in row:
            row["met"] = row["figure_s"] <= float(row["goal"].split()[1])
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "data": "generated smoke archive" if args.smoke else f"FER2013 {args.archive.name}",
        "groups": [g for g in GROUPS if g in groups],
        "machine": {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "cpu": cpu_model(), "arch": platform.machine(),
                    "python": platform.python_version(), "torch": torch.__version__},
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['data']} | {result['date']} | {result['machine']}")
    if args.smoke:
        print("smoke run: proves the benchmarks run; on 350 tiny images start-up dominates, so these ratios mean nothing")
    for row in rows:
        figure = row.get("figure_s", row.get("figure", row.get("figure_gib")))
        base = row.get("baseline_s", row.get("baseline_value", ""))
        status = {True: "MET ", False: "MISS", None: "N/A "}[row["met"]]
        note = f"  ({row['note']})" if row.get("note") else ""
        print(f"{status} {row['target']:<46} {figure!s:>22} vs {base!s:>10}  ratio {row.get('ratio', '-')!s:>6}  goal {row['goal']}{note}")


if __name__ == "__main__":
    main()
