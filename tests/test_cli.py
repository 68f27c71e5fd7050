"""fer_pipeline.cli: stage errors (bad input, disk full, out of memory) end as one line and exit status 2."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from fer_pipeline import FerError, cli
from fer_pipeline.io import atomic_path


def run_failing(exc: BaseException, capsys) -> str:
    """Run a main() that raises exc through cli.run; return the stderr it printed (after checking exit 2)."""
    def main() -> None:
        raise exc

    with pytest.raises(SystemExit) as stop:
        cli.run(main)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    return err


def test_fer_error_is_one_line(capsys):
    """A FerError's message is printed as `error: <message>` on one line, even if it contained newlines."""
    assert run_failing(FerError("params.yaml: bad\nkey"), capsys) == "error: params.yaml: bad key\n"


def test_disk_full_names_the_file(capsys):
    """ENOSPC while writing names the file and says no partial output was kept."""
    err = run_failing(OSError(errno.ENOSPC, "No space left on device", "data/preprocess/images.npy"), capsys)
    assert err.startswith("error: data/preprocess/images.npy: disk full; free space and rerun `dvc repro`")


def test_other_os_error_names_the_file(capsys):
    """Any other OS error (e.g. permission) names the file and its reason."""
    err = run_failing(PermissionError(errno.EACCES, "Permission denied", "metrics/x.json"), capsys)
    assert err == "error: metrics/x.json: Permission denied; check the path and its permissions, then rerun\n"


def test_out_of_memory(capsys):
    """MemoryError says what to lower and that earlier outputs are intact."""
    assert "out of memory; lower train.batch_size" in run_failing(MemoryError(), capsys)


def test_disk_full_mid_write_keeps_the_previous_file(tmp_path, monkeypatch, capsys):
    """A write that fails with ENOSPC half-way leaves the old output as it was and no temp file behind."""
    target = tmp_path / "images.npy"
    np.save(target, np.arange(3))
    before = target.read_bytes()

    def full_disk(f, arr):
        f.write(b"\x93NUMPY partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(np, "save", full_disk)

    def main() -> None:
        with atomic_path(target) as tmp, open(tmp, "wb") as f:
            np.save(f, np.arange(10))

    with pytest.raises(SystemExit):
        cli.run(main)
    assert "disk full" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images.npy"]


@pytest.mark.parametrize("command", ["predict", "export"])
def test_fer_predict_and_fer_export_print_the_stage_error_line(command, tmp_path, monkeypatch, capsys):
    """fer-predict and fer-export stop on a bad checkpoint with the stages' line (cli.report_error): the same
    `error: <message>` on one line, newlines folded, and exit status 2."""
    import importlib

    module = importlib.import_module(f"fer_pipeline.serving.{command}")
    model = tmp_path / "model.pt"
    model.write_bytes(b"")

    def broken(path):
        raise FerError(f"{path}: not a\n   checkpoint")

    monkeypatch.setattr(module, "load_model", broken)
    argv = [str(tmp_path / "face.png"), "--model", str(model)] if command == "predict" else \
        ["--model", str(model), "--out", str(tmp_path / "m.onnx")]
    assert module.main(argv) == cli.BAD_INPUT == 2
    assert capsys.readouterr().err == f"error: {model}: not a checkpoint\n"
    assert run_failing(FerError(f"{model}: not a\n   checkpoint"), capsys) == f"error: {model}: not a checkpoint\n"
    assert not (tmp_path / "m.onnx").exists()
