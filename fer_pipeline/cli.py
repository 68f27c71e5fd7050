"""Glue shared by the stage scripts: arguments, params with overrides, one-line errors."""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable
from typing import NoReturn

from fer_pipeline import FerError
from fer_pipeline.io import read_json
from fer_pipeline.params import Params, load_params, parse_override


def stage_args(doc: str, variant: bool = False) -> argparse.Namespace:
    """Parse --params, and for per-variant stages --variant and repeated --set KEY=VALUE."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    if variant:
        p.add_argument("--variant", required=True, help="variant name, e.g. baseline or activation-relu")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override one param for this variant, e.g. model.activation=tanh")
        p.add_argument("--axis", action="append", default=[], metavar="AXIS=VALUE",
                       help="apply a study axis value to the base, e.g. optimizer=sgd or depth=3")
        p.add_argument("--choice", help="JSON of chosen axis values (the select stage's choice.json)")
        p.add_argument("--from", dest="start", default="", metavar="SECTION",
                       help="start from <SECTION>.model/<SECTION>.train instead of model/train: base (study) or cnn (recipe)")
    return p.parse_args()


def stage_params(args: argparse.Namespace) -> Params:
    """Load params.yaml with this variant's --choice, --axis and then --set overrides applied."""
    from fer_pipeline.variants import FACTORS, axis_overrides

    start = getattr(args, "start", "")
    base = load_params(args.params, start=start)
    axes: list[tuple[str, str]] = []
    if getattr(args, "choice", None):
        choice = read_json(args.choice)
        axes += [(f, str(choice[f])) for f in FACTORS if f in choice]
    for text in getattr(args, "axis", []):
        axis, _, value = text.partition("=")
        if not value:
            raise FerError(f"--axis {text!r}: expected AXIS=VALUE, e.g. optimizer=sgd")
        axes.append((axis, value))
    overrides = [o for axis, value in axes for o in axis_overrides(base, axis, value)]
    overrides += [parse_override(s) for s in getattr(args, "set", [])]
    return load_params(args.params, overrides, start) if overrides else base


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


def fail(message: str) -> NoReturn:
    """Print `error: <message>` as one line on stderr and exit with status 2."""
    print("error: " + " ".join(message.split()), file=sys.stderr)
    sys.exit(2)
