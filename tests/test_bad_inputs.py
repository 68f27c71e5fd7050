"""The bad-input catalogue: every case runs a real stage and must end in one `error:` line naming the file or
key, exit status 2, and no output written or left behind.

Each case runs the stage's main() in this interpreter, wrapped as its `python -m stages.X` entry point wraps it
(cli.run), so the catalogue costs no interpreter start per case; a few cases also run as real processes, as DVC
runs them, to prove the contract end to end (stderr of the process, its exit status)."""

from __future__ import annotations

import importlib
import io
import os
import pickle
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml

from fer_pipeline import cli, paths
from fer_pipeline.cli import stage_command
from fer_pipeline.data.dataset import RawDataset, load_dataset
from fer_pipeline.data.sources import read_archive, read_csv

from .builders import (
    CSV_ROWS,
    assert_same_dataset,
    explorer_junk,
    finder_junk,
    jpeg,
    tree,
    with_folder_entries,
    wrapped,
    write_csv,
    write_spreadsheet_csv,
    write_tree,
    write_zip,
    write_zip_members,
)
from .conftest import ROOT


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it (returns params overrides), which stage meets it, what it must say."""

    name: str
    make: Callable[[Path], dict[str, object]]
    message: str  # regex the one error line must match
    stage: str = "fetch"
    args: tuple[str, ...] = ()


def archive(files: dict[str, bytes], infos=()) -> Callable[[Path], dict[str, object]]:
    """A case maker writing bad.zip with these members."""
    def make(tmp: Path) -> dict[str, object]:
        write_zip(tmp / "bad.zip", files, infos)
        return {"data.source": "archive", "data.path": "bad.zip"}
    return make


def zip_members(members: dict[str, bytes]) -> Callable[[Path], dict[str, object]]:
    """A case maker writing archive.zip with exactly these members (as an OS's zip tool wrote them)."""
    def make(tmp: Path) -> dict[str, object]:
        write_zip_members(tmp / "archive.zip", members)
        return {"data.source": "archive", "data.path": "archive.zip"}
    return make


def raw_file(name: str, data: bytes, source: str) -> Callable[[Path], dict[str, object]]:
    """A case maker writing one file as the data source."""
    def make(tmp: Path) -> dict[str, object]:
        (tmp / name).write_bytes(data)
        return {"data.source": source, "data.path": name}
    return make


def csv_file(rows=None, pixel_rows=None, header: str | None = None) -> Callable[[Path], dict[str, object]]:
    """A case maker writing a small fer2013.csv (optionally with another header line)."""
    def make(tmp: Path) -> dict[str, object]:
        path = write_csv(tmp / "fer2013.csv", rows, pixel_rows)
        if header is not None:
            lines = path.read_text().splitlines()
            path.write_text("\n".join([header, *lines[1:]]) + "\n")
        return {"data.source": "csv", "data.path": "fer2013.csv"}
    return make


def folder(files: dict[str, bytes]) -> Callable[[Path], dict[str, object]]:
    """A case maker writing an extracted tree."""
    def make(tmp: Path) -> dict[str, object]:
        write_tree(tmp / "tree", files)
        (tmp / "tree").mkdir(exist_ok=True)
        return {"data.source": "folder", "data.path": "tree"}
    return make


def folder_with_link(tmp: Path) -> dict[str, object]:
    """An extracted tree where one image is a symbolic link to a file outside it."""
    write_tree(tmp / "tree", tree())
    (tmp / "outside.jpg").write_bytes(jpeg())
    (tmp / "tree/train/happy/link.jpg").symlink_to(tmp / "outside.jpg")
    return {"data.source": "folder", "data.path": "tree"}


def params_only(**overrides: object) -> Callable[[Path], dict[str, object]]:
    """A case maker that only changes params."""
    return lambda tmp: dict(overrides)


def truncated_zip(tmp: Path) -> dict[str, object]:
    """A valid archive cut in half, as an interrupted download leaves it."""
    data = write_zip(tmp / "full.zip", tree()).read_bytes()
    (tmp / "full.zip").unlink()
    (tmp / "bad.zip").write_bytes(data[: len(data) // 2])
    return {"data.source": "archive", "data.path": "bad.zip"}


def zip_info(name: str, symlink: bool = False) -> zipfile.ZipInfo:
    """A hand-made member header (names that zipfile.writestr would not produce on its own)."""
    info = zipfile.ZipInfo(name)
    if symlink:
        info.external_attr = 0o120777 << 16
    return info


def without(files: dict[str, bytes], prefix: str) -> dict[str, bytes]:
    """The tree minus members under prefix."""
    return {k: v for k, v in files.items() if not k.startswith(prefix)}


PIXELS_BAD_LENGTH = [" ".join(["1"] * 100)] + [" ".join(["1"] * 2304)] * (len(CSV_ROWS) - 1)
PIXELS_OUT_OF_RANGE = [" ".join(["300"] * 2304)] * len(CSV_ROWS)

DATA_CASES = [
    Case("zip-not-a-zip", raw_file("bad.zip", os.urandom(2048), "archive"), r"bad\.zip: not a readable zip"),
    Case("zip-truncated", truncated_zip, r"bad\.zip.*(not a readable zip|corrupt)"),
    Case("member-not-jpeg", archive(tree() | {"train/angry/notes.jpg": b"plain text, not an image"}),
         r"bad\.zip:train/angry/notes\.jpg: cannot decode image"),
    Case("member-not-48x48", archive(tree() | {"train/fear/big.jpg": jpeg(size=(64, 64))}),
         r"bad\.zip:train/fear/big\.jpg: image is 64x64, expected 48x48"),
    Case("member-rgb", archive(tree() | {"train/sad/rgb.jpg": jpeg(mode="RGB")}),
         r"bad\.zip:train/sad/rgb\.jpg: image mode RGB, expected 8-bit grayscale"),
    Case("member-other-suffix", archive(tree() | {"train/sad/readme.txt": b"x"}), r"'train/sad/readme\.txt' is not a \.jpg"),
    Case("unknown-class", archive(tree() | {"train/contempt/x.jpg": jpeg()}), r"unknown class folder 'contempt'"),
    Case("missing-class", archive(without(tree(), "train/disgust/")), r"bad\.zip: class 'disgust' has no training images"),
    Case("split-without-images", archive(without(tree(), "test/")), r"bad\.zip: split 'test' has no images"),
    Case("unexpected-layout", archive(tree() | {"train/happy/extra/x.jpg": jpeg()}), r"unexpected member 'train/happy/extra/x\.jpg'"),
    Case("path-escapes-dotdot", archive(tree(), [(zip_info("../evil.jpg"), jpeg())]), r"unsafe member path '\.\./evil\.jpg'"),
    Case("path-absolute", archive(tree(), [(zip_info("/tmp/evil.jpg"), jpeg())]), r"unsafe member path '/tmp/evil\.jpg'"),
    Case("member-symlink", archive(tree(), [(zip_info("train/happy/link.jpg", symlink=True), b"/etc/passwd")]),
         r"'train/happy/link\.jpg' is a symbolic link"),
    Case("path-backslash", archive(tree(), [(zip_info("train\\happy\\w.jpg"), jpeg())]), r"unsafe member path 'train\\\\happy"),
    Case("wrapped-unexpected-layout", zip_members(wrapped(tree() | {"train/happy/extra/x.jpg": jpeg()}, "archive")),
         r"unexpected member 'archive/train/happy/extra/x\.jpg'; expected archive/train/<class>/<file>\.jpg"),
    Case("folder-empty", folder({}), r"tree: no images found; .* in this folder$"),
    Case("folder-stray-file", folder(tree() | {"train/sad/readme.txt": b"x"}),
         r"tree: file 'train/sad/readme\.txt' is not a \.jpg image; remove it from the folder$"),
    Case("folder-symlink", folder_with_link, r"tree/train/happy/link\.jpg: is a symbolic link"),
    Case("folder-unknown-class", folder(tree() | {"test/smirk/x.jpg": jpeg()}), r"tree/test/smirk: unknown class folder"),
    Case("path-missing", params_only(**{"data.source": "archive", "data.path": "nowhere/archive.zip"}),
         r"data\.path: nowhere/archive\.zip does not exist"),
    Case("path-empty", params_only(**{"data.path": ""}), r"key 'data\.path' is ''; expected a non-empty path"),
    Case("csv-missing-column", csv_file(header="emotion,pixels"), r"fer2013\.csv: missing column 'Usage'"),
    Case("csv-pixel-count", csv_file(pixel_rows=PIXELS_BAD_LENGTH), r"fer2013\.csv: row 2: pixels has 100 values, expected 2304"),
    Case("csv-pixel-range", csv_file(pixel_rows=PIXELS_OUT_OF_RANGE), r"fer2013\.csv: row 2: pixel values must be in 0-255"),
    Case("csv-unknown-emotion", csv_file(rows=[*CSV_ROWS[:-1], (9, "PrivateTest")]), r"fer2013\.csv: row 10: unknown emotion index 9"),
    Case("csv-duplicate-column", csv_file(header="emotion,pixels,Usage,pixels"), r"fer2013\.csv: column 'pixels' appears 2 times"),
    Case("csv-unknown-usage", csv_file(rows=[*CSV_ROWS[:-1], (6, "Validation")]), r"fer2013\.csv: row 10: unknown Usage 'Validation'"),
]

# Each stage reads (and checks) only its own params: a bad key stops the stage that reads it.
TRAIN = {"stage": "train", "args": ("--variant", "x")}
PARAM_CASES = [
    Case("param-unknown-key", params_only(**{"train.batchsize": 32}),
         r"params\.yaml: unknown key 'train\.batchsize'; allowed keys here: batch_size", **TRAIN),
    Case("param-wrong-type", params_only(**{"train.batch_size": "32"}), r"key 'train\.batch_size' is '32'; expected an integer", **TRAIN),
    Case("param-valid-fraction", params_only(**{"split.valid_fraction": 1.5}),
         r"key 'split\.valid_fraction' is 1\.5; expected a number strictly between 0 and 1", stage="split"),
    Case("param-batch-size-zero", params_only(**{"train.batch_size": 0}),
         r"key 'train\.batch_size' is 0; expected an integer >= 1", **TRAIN),
    Case("param-negative-lr", params_only(**{"train.lr": -0.01}), r"key 'train\.lr' is -0\.01; expected a number > 0", **TRAIN),
    Case("param-unknown-activation", params_only(**{"model.activation": "swish"}),
         r"key 'model\.activation' is 'swish'; expected one of sigmoid, softmax, relu", **TRAIN),
    Case("param-unknown-optimizer", params_only(**{"train.optimizer": "adamax"}),
         r"key 'train\.optimizer' is 'adamax'; expected one of sgd, adam, adamw, rmsprop", **TRAIN),
    Case("param-unknown-family", params_only(**{"model.family": "resnet"}),
         r"key 'model\.family' is 'resnet'; expected one of mlp, cnn", **TRAIN),
    Case("param-empty-study", params_only(**{"study.activations": []}), r"key 'study\.activations' is \[\]; expected a non-empty list",
         stage="choose"),
    Case("param-bad-override", params_only(), r"key 'model\.activation' is 'swish'", stage="train",
         args=("--variant", "x", "--set", "model.activation=swish")),
]


def write_params(tmp: Path, overrides: dict[str, object]) -> None:
    """The repo's params.yaml with dotted overrides (new keys allowed, to test typos) written to tmp."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for key, value in overrides.items():
        node = params
        *parents, last = key.split(".")
        for p in parents:
            node = node[p]
        node[last] = value
    (tmp / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def run_stage(cwd: Path, stage: str, *args: str) -> subprocess.CompletedProcess:
    """Run a stage as dvc.yaml does (python -m stages.<stage>), in `cwd`."""
    cmd, env = stage_command(stage, *args, code_root=str(ROOT))
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def run_in_process(cwd: Path, stage: str, *args: str, capfd: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
                   ) -> subprocess.CompletedProcess:
    """Run a stage's main(args) in this interpreter, in `cwd`, as its entry point does (cli.run turns a refusal into
    one stderr line and SystemExit(2)): its exit status and what it wrote to stdout and stderr."""
    module = importlib.import_module(f"stages.{stage}")
    monkeypatch.chdir(cwd)
    capfd.readouterr()
    try:
        cli.run(lambda: module.main(list(args)))
        code = 0
    except SystemExit as e:
        code = e.code
    out = capfd.readouterr()
    return subprocess.CompletedProcess([stage, *args], code, out.out, out.err)


def files_under(root: Path) -> set[str]:
    """Every file below root, relative."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def assert_refused(proc: subprocess.CompletedProcess, message: str) -> None:
    """Exit status 2 and exactly one stderr line, `error: ...`, matching the message."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert re.search(message, lines[0]), lines[0]


@pytest.mark.parametrize("case", DATA_CASES + PARAM_CASES, ids=lambda c: c.name)
def test_bad_input_is_refused_with_nothing_written(tmp_path: Path, case: Case, capfd, monkeypatch) -> None:
    """A bad data file or param stops the stage with one line naming it, exit 2, and no new file anywhere."""
    work = tmp_path / "work"
    work.mkdir()
    write_params(work, case.make(work))
    before = files_under(tmp_path)
    assert_refused(run_in_process(work, case.stage, *case.args, capfd=capfd, monkeypatch=monkeypatch), case.message)
    assert files_under(tmp_path) == before


# One case per way in (a data file for fetch, a params key, a --set override for train), run as DVC runs a stage.
END_TO_END = ("zip-not-a-zip", "param-valid-fraction", "param-bad-override")


@pytest.mark.parametrize("case", [c for c in DATA_CASES + PARAM_CASES if c.name in END_TO_END], ids=lambda c: c.name)
def test_bad_input_is_refused_by_the_stage_process(tmp_path: Path, case: Case) -> None:
    """Run as `python -m stages.X` in a fresh interpreter, a refused input leaves exactly one `error:` line on the
    process's stderr, exit status 2, and no new file anywhere."""
    work = tmp_path / "work"
    work.mkdir()
    write_params(work, case.make(work))
    before = files_under(tmp_path)
    assert_refused(run_stage(work, case.stage, *case.args), case.message)
    assert files_under(tmp_path) == before


def test_end_to_end_cases_exist() -> None:
    """Every name in END_TO_END is a case of the catalogue (a renamed case must not drop the process check)."""
    assert set(END_TO_END) <= {c.name for c in DATA_CASES + PARAM_CASES}


# --- valid data in the shapes users really hand it over: fetch accepts it with one note and writes the clean data set ---


@dataclass(frozen=True)
class Accepted:
    """One real-world shape of valid data: how to make it, the note fetch must print, the clean source it must equal."""

    name: str
    make: Callable[[Path], dict[str, object]]
    note: str  # regex the one stderr line must match
    clean: Callable[[Path], RawDataset]


def clean_tree(tmp: Path) -> RawDataset:
    """The data set of the clean archive."""
    return read_archive(write_zip(tmp / "clean.zip", tree()))


def clean_csv(tmp: Path) -> RawDataset:
    """The data set of the clean fer2013.csv (same file name, so the same ids)."""
    (tmp / "clean").mkdir()
    return read_csv(write_csv(tmp / "clean" / "fer2013.csv"))


def spreadsheet_csv(tmp: Path) -> dict[str, object]:
    """fer2013.csv re-saved by European-locale Excel: BOM, CRLF, quotes, ';', reordered, a trailing empty column, ',,' rows."""
    write_spreadsheet_csv(tmp / "fer2013.csv", ("emotion", "Usage", "pixels", ""), ";", bom=True, crlf=True, quote=True, empty_rows=2)
    return {"data.source": "csv", "data.path": "fer2013.csv"}


JUNK_NOTE = r"skipped \d+ entries left by the operating system or a file manager"
ACCEPTED_CASES = [
    Accepted("zip-from-finder", zip_members(with_folder_entries(wrapped(tree(), "archive") | finder_junk(tree(), "archive"))),
             rf"^note: archive\.zip: {JUNK_NOTE} \(__MACOSX/\.\.\., \.DS_Store\); read train/ and test/ from inside its "
             r"single top folder 'archive/'$", clean_tree),
    Accepted("zip-from-explorer", zip_members(with_folder_entries(wrapped(tree(), "fer2013") | explorer_junk("fer2013"))),
             rf"^note: archive\.zip: {JUNK_NOTE} \(Desktop\.ini, Thumbs\.db\); .* top folder 'fer2013/'$", clean_tree),
    Accepted("folder-with-leftovers-auto",
             lambda tmp: folder(wrapped(tree() | finder_junk(tree()) | explorer_junk(), "fer2013"))(tmp) | {"data.source": "auto"},
             rf"^note: tree: {JUNK_NOTE} \(__MACOSX/\.\.\., \.DS_Store, Thumbs\.db\); .* top folder 'fer2013/'$", clean_tree),
    Accepted("csv-from-spreadsheet", spreadsheet_csv,
             r"^note: fer2013\.csv: skipped a byte-order mark, 2 empty rows, extra columns \(unnamed\); fields separated by ';'$",
             clean_csv),
]


@pytest.mark.parametrize("case", ACCEPTED_CASES, ids=lambda c: c.name)
def test_real_world_data_is_accepted_with_one_note(tmp_path: Path, case: Accepted, capfd, monkeypatch) -> None:
    """Valid data as an OS or a spreadsheet hands it over is fetched (exit 0) as the clean data set, with exactly one
    stderr line: a note saying what was skipped."""
    work = tmp_path / "work"
    work.mkdir()
    write_params(work, case.make(work))
    proc = run_in_process(work, "fetch", capfd=capfd, monkeypatch=monkeypatch)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(case.note, lines[0]), proc.stderr
    assert_same_dataset(load_dataset(work / paths.DATASET), case.clean(tmp_path))


# --- checkpoints: met by the evaluate stage, after fetch/split/preprocess ran on a tiny synthetic set ---


class Malicious:
    """Unpickling this would run code that leaves a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def save_mlp(path: Path, hidden: list[int], args_hidden: list[int]) -> None:
    """A checkpoint whose weights have `hidden` widths but whose args claim `args_hidden`."""
    from fer_pipeline.params import load_params, to_dict
    from fer_pipeline.training.checkpoint import save_checkpoint
    from fer_pipeline.training.models import build_model

    params = load_params(ROOT / "params.yaml")
    weights = build_model(type(params.model)(**{**vars(params.model), "hidden": tuple(hidden)})).state_dict()
    args = to_dict(params)
    args["model"]["hidden"] = args_hidden
    save_checkpoint(path, weights, None, None, 1, args)


def ckpt_other_architecture(path: Path) -> None:
    save_mlp(path, [64], [32])


def ckpt_truncated(path: Path) -> None:
    save_mlp(path, [32], [32])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def ckpt_not_a_checkpoint(path: Path) -> None:
    path.write_text("this is a text file someone saved as model.pt\n")


def ckpt_malicious(path: Path) -> None:
    with open(path, "wb") as f:
        pickle.dump({"model": Malicious(str(path.parent / "PWNED")), "args": {}, "classes": []}, f)


def ckpt_malicious_torch(path: Path) -> None:
    buf = io.BytesIO()
    torch.save({"model": Malicious(str(path.parent / "PWNED")), "args": {}, "classes": []}, buf)
    path.write_bytes(buf.getvalue())


CKPT_CASES = [
    ("ckpt-other-architecture", ckpt_other_architecture, r"model\.pt: weights do not fit the model it names"),
    ("ckpt-truncated", ckpt_truncated, r"model\.pt: not a loadable checkpoint"),
    ("ckpt-not-a-checkpoint", ckpt_not_a_checkpoint, r"model\.pt: not a loadable checkpoint"),
    ("ckpt-malicious-pickle", ckpt_malicious, r"model\.pt: not a loadable checkpoint"),
    ("ckpt-malicious-torch-save", ckpt_malicious_torch, r"model\.pt: not a loadable checkpoint"),
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where fetch, split and preprocess already ran on a tiny synthetic set."""
    work = tmp_path_factory.mktemp("prepared")
    write_params(work, {"data.source": "synthetic", "data.synthetic.train_size": 140, "data.synthetic.test_size": 35})
    for stage in ("fetch", "split", "preprocess"):
        proc = run_stage(work, stage)
        assert proc.returncode == 0, proc.stderr
    return work


@pytest.mark.slow
@pytest.mark.parametrize(("name", "make", "message"), CKPT_CASES, ids=[c[0] for c in CKPT_CASES])
def test_bad_checkpoint_is_refused_with_nothing_written(tmp_path: Path, prepared: Path, name, make, message) -> None:
    """evaluate refuses a bad checkpoint in one line, runs no pickled code, and writes no metrics or predictions."""
    work = tmp_path / "work"
    shutil.copytree(prepared, work)
    model = work / "data/train/baseline/model.pt"
    model.parent.mkdir(parents=True)
    make(model)
    before = files_under(tmp_path)
    assert_refused(run_stage(work, "evaluate", "--variant", "baseline"), message)
    assert files_under(tmp_path) == before
    assert not (model.parent / "PWNED").exists()
