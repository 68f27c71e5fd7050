"""A tiny git+DVC copy of this repo for end-to-end tests, and small helpers to drive DVC in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import ROOT

ACTIVATIONS = ["sigmoid", "tanh"]
# The real params shrunk: a small synthetic set, small nets, and every study axis cut to one value
# (two for activations) and one seed, so the whole pipeline, study included, runs in a few minutes.
TINY = {
    "data.source": "auto", "data.path": "data/raw", "data.synthetic.train_size": 2000, "data.synthetic.test_size": 300,
    "model.hidden": [64], "train.max_epochs": 10, "runtime.threads": 1,
    "presets.architectures.mlp1.hidden": [64], "study.train.max_epochs": 4,
    "study.seeds": [0], "study.cnn_seeds": [0], "study.activations": ACTIVATIONS, "study.batch_sizes": [64],
    "study.optimizers": ["sgd"], "study.architectures": ["mlp3"], "study.imbalances": ["class_weights"],
    "study.depths": [2], "study.depth_activations": ["relu"], "study.bootstrap": 200,
    "presets.architectures.mlp3.hidden": [32, 16],
    "cnn.model.channels": [4, 8], "cnn.train.max_epochs": 2, "cnn.train.max_steps": 20,
}
# The study's one-factor stages and the run each trains (one seed in the tiny copy)
STUDY_RUNS = {
    "study_base": "study/base/s0", "study_activation@sigmoid": "study/activation-sigmoid/s0",
    "study_activation@tanh": "study/activation-tanh/s0", "study_batch_size@64": "study/batchsize-64/s0",
    "study_optimizer@sgd": "study/optimizer-sgd/s0", "study_architecture@mlp3": "study/architecture-mlp3/s0",
    "study_imbalance@class_weights": "study/imbalance-class_weights/s0", "study_depth@2-relu": "study/depth-2-relu/s0",
}
VARIANTS = ["baseline", "cnn", *STUDY_RUNS.values()]
# The factorial's stages: what each trains depends on choose's picks (data/choose/choice.json).
FACTORIAL_STAGES = {f"study_factorial@{i}" for i in range(1, 8)}
ENV = {
    **os.environ,
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
}


def sh(cwd: Path, *cmd: str) -> str:
    """Run a command in the project copy; fail the test with its output if it fails."""
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def set_param(project: Path, key: str, value: object) -> None:
    """Write one dotted key into the copy's params.yaml."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    node = params
    *parents, last = key.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def stale(project: Path) -> set[str]:
    """Names of the stages `dvc status` reports as changed."""
    return set(json.loads(sh(project, "dvc", "status", "--json")))


def ran(output: str) -> set[str]:
    """Names of the stages a `dvc repro`/`dvc exp run` output says it ran."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


def tiny_copy(dst: Path) -> Path:
    """A git+DVC copy of this repo in dst whose params are shrunk to a tiny synthetic run."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for rel in files:
        if rel == "dvc.lock" or not (ROOT / rel).is_file():
            continue
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst / rel)
    for key, value in TINY.items():
        set_param(dst, key, value)
    sh(dst, "git", "init", "-q")
    sh(dst, "git", "add", "-A")
    sh(dst, "git", "commit", "-qm", "tiny copy")
    return dst
