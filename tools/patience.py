"""Early stopping replayed at a smaller patience on the study's own validation histories: for each patience, per
variant, the seed sd of the kept epoch's validation macro recall and the epochs its seeds train.

    python -m tools.patience                 # patience 3 up to study.train.patience, from metrics/train/
    python -m tools.patience --patience 3 4 8

A run at patience p trains exactly like one at a larger patience until it stops (training is deterministic per seed),
so the larger run's history says when the smaller one would have stopped and which epoch it would have kept. What
this reads is validation only (DVCLive's per-epoch valid loss and macro recall), so a patience chosen from its table
is chosen without test. Run it where the study's runs are (after `dvc repro report`, or a fan-out's gather).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fer_pipeline import FerError, cli, paths
from fer_pipeline.params import ParamsFile, StudyTrainParams
from fer_pipeline.training.distributed import SINGLE
from fer_pipeline.training.train import Stopping

RUN_GLOBS = ("study/*/s*", "factorial/*/s*")  # the study's runs under metrics/train/: axes and factorial points


def replay(valid_loss: Sequence[float], tp: StudyTrainParams) -> tuple[int, int]:
    """(epochs trained, kept epoch) of a run at tp.patience whose valid loss per epoch was `valid_loss`: fit's
    rule (a strictly lower valid loss improves; training.train.Stopping decides). A history that ends before the
    rule stops means the run stopped earlier than this patience would: it cannot be replayed."""
    stopping, kept = Stopping(tp, SINGLE), 0  # type: ignore[arg-type]  # Stopping reads patience, max_steps, max_minutes
    for epoch, loss in enumerate(valid_loss, 1):
        improved = kept == 0 or loss < valid_loss[kept - 1]
        kept = epoch if improved else kept
        if stopping.reason(improved) is not None or epoch == tp.max_epochs:
            return epoch, kept
    raise FerError(f"a history of {len(valid_loss)} epochs ends before patience {tp.patience} stops it; replay only "
                   "patiences up to the one the runs trained with")


def histories(root: Path) -> dict[str, dict[str, pd.DataFrame]]:
    """Per variant (study/<name>, factorial/<point>), per seed folder, its valid loss and macro recall by epoch."""
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for pattern in RUN_GLOBS:
        for run in sorted((root / paths.TRAIN_LOGS).glob(pattern)):
            valid = run / "plots" / "metrics" / "valid"
            if not (valid / "loss.tsv").is_file():
                continue
            cols = [pd.read_csv(valid / f"{m}.tsv", sep="\t").set_index("step")[m] for m in ("loss", "macro_recall")]
            out.setdefault(f"{run.parent.parent.name}/{run.parent.name}", {})[run.name] = pd.concat(cols, axis=1)
    if not out:
        raise FerError(f"{root / paths.TRAIN_LOGS}: no study run histories; run `dvc repro report` first")
    return out


def table(runs: dict[str, dict[str, pd.DataFrame]], tp: StudyTrainParams, patiences: Sequence[int]) -> list[str]:
    """A Markdown table: per variant and patience, the seed sd of the kept epoch's valid macro recall and the epochs
    its seeds train; then the median sd and the total epochs, with their ratio to the largest patience's."""
    head = " | ".join([f"sd at {p}" for p in patiences] + [f"epochs at {p}" for p in patiences])
    rows = [f"| variant | seeds | {head} |", "|---" * (2 + 2 * len(patiences)) + "|"]
    sds: dict[int, list[float]] = {p: [] for p in patiences}
    epochs = dict.fromkeys(patiences, 0)
    for variant, seeds in runs.items():
        cells_sd, cells_ep = [], []
        for p in patiences:
            at = dataclasses.replace(tp, patience=p)
            replayed = []
            for seed, h in seeds.items():
                try:
                    replayed.append(replay(h["loss"].tolist(), at))
                except FerError as e:  # a run still training, or one trained at a smaller patience
                    raise FerError(f"{paths.TRAIN_LOGS / variant / seed}: {e}") from None
            scores = [h["macro_recall"].iloc[kept - 1] for h, (_, kept) in zip(seeds.values(), replayed, strict=True)]
            sd = statistics.stdev(scores) if len(scores) > 1 else float("nan")
            sds[p].append(sd)
            epochs[p] += sum(n for n, _ in replayed)
            cells_sd.append(f"{sd:.4f}")
            cells_ep.append(str(sum(n for n, _ in replayed)))
        rows.append(f"| {variant} | {len(seeds)} | {' | '.join(cells_sd + cells_ep)} |")
    top = max(patiences)
    rows.append(f"| median sd / total epochs (x of {top}'s) | | "
                + " | ".join([f"{statistics.median(sds[p]):.4f}" for p in patiences]
                             + [f"{epochs[p]} ({epochs[p] / epochs[top]:.2f}x)" for p in patiences]) + " |")
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Replay early stopping at smaller patiences on the study's validation "
                                            "histories: seed sd of the kept validation macro recall, and epochs.")
    p.add_argument("--root", default=".", help="the project folder holding params.yaml and metrics/train/")
    p.add_argument("--patience", type=int, nargs="+", help="patiences to replay (default: 3 to study.train.patience)")
    args = p.parse_args(argv)
    root = Path(args.root)
    tp = ParamsFile(root / "params.yaml").section(StudyTrainParams, "study.train")
    patiences = sorted(set(args.patience or range(min(3, tp.patience), tp.patience + 1)))
    if patiences[0] < 1 or patiences[-1] > tp.patience:
        raise FerError(f"--patience: give values from 1 to study.train.patience ({tp.patience}), the patience the "
                       "runs trained with")
    print("\n".join(table(histories(root), tp, patiences)))


if __name__ == "__main__":
    cli.run(main)
