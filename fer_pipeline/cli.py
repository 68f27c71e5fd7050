"""Glue shared by the stage scripts: arguments, params with overrides, one-line errors."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from fer_pipeline import FerError
from fer_pipeline.axes import AXES
from fer_pipeline.params import START_SECTIONS


def stage_args(doc: str, variant: bool = False, argv: list[str] | None = None, point: bool = False) -> argparse.Namespace:
    """Parse --params, for per-variant stages --variant, --from, --axis, --choice and --set, and for the study
    stage --point."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    if variant:
        p.add_argument("--variant", required=True, help="run name, e.g. baseline, or a study variant such as study/activation-tanh")
        p.add_argument("--from", dest="start", default="", choices=["", *START_SECTIONS], metavar="SECTION",
                       help="instead of model/train: study (composed from study.base, study.train and the axes) or "
                            "cnn (cnn.model/cnn.train, the recipe)")
        p.add_argument("--axis", action="append", default=[], metavar="AXIS=VALUE",
                       help=f"a study axis value ({', '.join(a.name for a in AXES)}) applied to the study's base, "
                            "e.g. optimizer=sgd or depth=3")
        p.add_argument("--choice", help="the choose stage's choice.json: its settings apply first")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="one model/train field for this run, e.g. train.seed=1, or where the train stage runs, "
                            "e.g. runtime.processes=2 (YAML value)")
    if point:
        p.add_argument("--point", type=int, metavar="INDEX",
                       help="the factorial at the chosen architecture: --choice's point INDEX (1 or more; point 0 is "
                            "the chosen architecture alone, its axis run)")
    return p.parse_args(argv)


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(); a FerError, a full disk or exhausted memory becomes one line on stderr and exit 2."""
    try:
        main()
    except FerError as e:
        fail(str(e))
    except MemoryError:
        fail("out of memory; lower train.batch_size (or free memory) and rerun `dvc repro`: earlier stages' outputs are intact")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            fail(f"{where}disk full; free space and rerun `dvc repro`: no partial output was kept, earlier stages' outputs are intact")
        fail(f"{where}{e.strerror or e}; check the path and its permissions, then rerun")


BAD_INPUT = 2  # the exit status of every stage and command stopped by a bad input


def report_error(message: str) -> int:
    """Print `error: <message>` as one line on stderr (the form of every stage, fer-predict and fer-export) and
    return BAD_INPUT, for a command's main() to return."""
    print("error: " + " ".join(message.split()), file=sys.stderr)
    return BAD_INPUT


def fail(message: str) -> NoReturn:
    """Print `error: <message>` as one line on stderr and exit with status 2."""
    sys.exit(report_error(message))


def stage_command(stage: str, *args: str, code_root: str) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) that run a stage as dvc.yaml does, `python -m stages.<stage>`, from any working folder:
    for tests and benchmarks that run stages in a scratch folder with the code of `code_root`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [code_root, os.environ.get("PYTHONPATH")]))}
    return [sys.executable, "-m", f"stages.{stage}", *args], env
