"""Glue shared by the stage scripts: arguments, params with overrides, one-line errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from fer_pipeline import FerError
from fer_pipeline.params import Params, load_params, parse_override


def stage_args(doc: str, variant: bool = False) -> argparse.Namespace:
    """Parse --params, and for per-variant stages --variant and repeated --set KEY=VALUE."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    if variant:
        p.add_argument("--variant", required=True, help="variant name, e.g. baseline or activation-relu")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override one param for this variant, e.g. model.activation=tanh")
    return p.parse_args()


def stage_params(args: argparse.Namespace) -> Params:
    """Load params.yaml with this variant's --set overrides applied."""
    overrides = [parse_override(s) for s in getattr(args, "set", [])]
    return load_params(args.params, overrides)


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(); a FerError becomes one line on stderr and exit status 2."""
    try:
        main()
    except FerError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
