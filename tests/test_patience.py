"""tools.patience: early stopping replayed at a smaller patience on recorded validation histories gives the epochs and
the kept epoch that fit itself gives at that patience, and its table reports, per patience, each variant's seed sd of
the kept validation macro recall and the epochs trained."""

from __future__ import annotations

import dataclasses
import statistics

import pytest

from fer_pipeline import FerError
from tools.patience import histories, replay, table

from .test_train import noisy_valid, run, train_params


def test_replay_at_a_smaller_patience_is_what_fit_trains_at_it():
    """A run at patience 2 stops and keeps exactly where the replay of a patience-6 run's valid losses says it
    would (training is deterministic per seed); at 6 itself the replay is the run."""
    _, long = run(train_params(patience=6, max_epochs=30, lr=3e-4), d=noisy_valid())
    _, short = run(train_params(patience=2, max_epochs=30, lr=3e-4), d=noisy_valid())
    losses = [row["valid/loss"] for row in long.history]
    assert short.epochs_run < long.epochs_run  # the histories differ in length: the replay has something to cut
    assert replay(losses, train_params(patience=2, max_epochs=30)) == (short.epochs_run, short.best_epoch)
    assert replay(losses, train_params(patience=6, max_epochs=30)) == (long.epochs_run, long.best_epoch)


def test_a_history_too_short_for_the_patience_is_refused():
    """A history that ends before the rule stops it (a run still training, or one trained at a smaller patience)
    cannot be replayed: an error, not a guess."""
    with pytest.raises(FerError, match="ends before patience 3 stops it"):
        replay([1.0, 0.9, 0.95, 0.96], train_params(patience=3, max_epochs=30))
    assert replay([1.0, 0.9, 0.95, 0.96], train_params(patience=2, max_epochs=30)) == (4, 2)


def write_run(root, variant, seed, losses, recalls):
    valid = root / "metrics/train" / variant / f"s{seed}" / "plots/metrics/valid"
    valid.mkdir(parents=True)
    for name, values in (("loss", losses), ("macro_recall", recalls)):
        (valid / f"{name}.tsv").write_text(f"step\t{name}\n" + "".join(f"{i}\t{v}\n" for i, v in enumerate(values)))


def test_table_gives_each_patiences_seed_sd_and_epochs(tmp_path):
    """On crafted histories of two seeds: at patience 1 both stop after epoch 2 and keep epoch 1 (recall 0.2 and
    0.3), at patience 3 they keep epoch 3 (0.5 and 0.5) after 6 epochs; the table has those sds and epochs, and
    the factorial's runs are read too."""
    down_up = [1.0, 1.1, 0.8, 0.9, 0.95, 0.97]  # epoch 1 best, then epoch 3; 3 epochs without improvement after it
    write_run(tmp_path, "study/base", 0, down_up, [0.2, 0.1, 0.5, 0.4, 0.4, 0.4])
    write_run(tmp_path, "study/base", 1, down_up, [0.3, 0.1, 0.5, 0.4, 0.4, 0.4])
    write_run(tmp_path, "factorial/1", 0, down_up, [0.2, 0.1, 0.5, 0.4, 0.4, 0.4])
    runs = histories(tmp_path)
    assert set(runs) == {"study/base", "factorial/1"}
    tp = dataclasses.replace(train_params(max_epochs=60), patience=3)
    rows = table(runs, tp, [1, 3])
    base = next(r for r in rows if r.startswith("| study/base |"))
    assert base == f"| study/base | 2 | {statistics.stdev([0.2, 0.3]):.4f} | 0.0000 | 4 | 12 |"
    assert rows[-1].endswith("| 6 (0.33x) | 18 (1.00x) |")


def test_no_histories_is_an_error_naming_the_folder(tmp_path):
    """Where no study run has been trained, the tool says so and what to run."""
    with pytest.raises(FerError, match="no study run histories; run `dvc repro report` first"):
        histories(tmp_path)
