"""stages/: run as modules, the stages import the fer_pipeline of the workspace they run in."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import ROOT


def test_a_second_clone_runs_its_own_library(tmp_path: Path) -> None:
    """A stage command from dvc.yaml, run in a second copy of the repo with this checkout's interpreter (whose
    editable install points at this checkout), imports the copy's edited fer_pipeline, not this checkout's."""
    clone = tmp_path / "clone"
    for part in ("stages", "fer_pipeline"):
        shutil.copytree(ROOT / part, clone / part, ignore=shutil.ignore_patterns("__pycache__"))
    marker = tmp_path / "imported-from"
    init = clone / "fer_pipeline/__init__.py"
    init.write_text(init.read_text() + f"\nopen({str(marker)!r}, 'w').write(__file__)\n")  # the clone's edit
    cmd = shlex.split(yaml.safe_load((ROOT / "data" / "dvc.yaml").read_text())["stages"]["fetch"]["cmd"])
    assert cmd[0] == "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, *cmd[1:], "--help"], cwd=clone, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert marker.read_text() == str(init)
