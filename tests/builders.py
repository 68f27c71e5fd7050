"""Builders of tiny FER2013-shaped fixtures (zip, folder) shared by the source and error tests."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from fer_pipeline import CLASSES
from fer_pipeline.params import CnnParams, MlpParams, ModelParams

# One distinct solid grey level per file, so every image is identifiable after a lossy JPEG round trip.
TRAIN_LEVEL = {c: 20 + 30 * i for i, c in enumerate(CLASSES)}
TEST_FILES = {"test/happy/t0.jpg": 230, "test/sad/t1.jpg": 5}


def jpeg(level: int = 128, size: tuple[int, int] = (48, 48), mode: str = "L") -> bytes:
    """Bytes of a solid-colour JPEG."""
    buf = io.BytesIO()
    color = level if mode == "L" else (level, level, level)
    Image.new(mode, size, color).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def tree() -> dict[str, bytes]:
    """Member name -> JPEG bytes in the msambare layout: one train image per class, two test images."""
    files = {f"train/{c}/im{i}.jpg": jpeg(level) for i, (c, level) in enumerate(TRAIN_LEVEL.items())}
    files |= {name: jpeg(level) for name, level in TEST_FILES.items()}
    return files


def write_zip(path: Path, files: dict[str, bytes], infos: list[tuple[zipfile.ZipInfo, bytes]] = ()) -> Path:
    """A zip with plain members `files` plus hand-made ZipInfo members `infos`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("train/", b"")  # directory entries, as real archives have
        for name, data in files.items():
            zf.writestr(name, data)
        for info, data in infos:
            zf.writestr(info, data)
    return path


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """The same files as an extracted folder."""
    for name, data in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


# fer2013.csv's own order: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral
CSV_ROWS = [(e, "Training") for e in range(7)] + [(4, "PublicTest"), (6, "PrivateTest")]


def pixels(seed: int) -> list[int]:
    """48*48 pixel values, different per row."""
    return [(seed * 37 + k) % 256 for k in range(48 * 48)]


def write_csv(path: Path, rows: list[tuple[object, object]] | None = None, pixel_rows=None) -> Path:
    """A small fer2013.csv."""
    rows = CSV_ROWS if rows is None else rows
    pixel_rows = pixel_rows or [" ".join(map(str, pixels(i))) for i in range(len(rows))]
    lines = ["emotion,pixels,Usage"] + [f"{e},{p},{u}" for (e, u), p in zip(rows, pixel_rows, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- the same data as users really hand it over: re-zipped or unpacked by an OS, saved by a spreadsheet ----

APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "  # the header of a macOS ._<name> resource file


def wrapped(files: dict[str, bytes], top: str) -> dict[str, bytes]:
    """The tree moved into one top folder, as zipping or unzipping a folder leaves it."""
    return {f"{top}/{name}": data for name, data in files.items()}


def finder_junk(files: dict[str, bytes], top: str = "") -> dict[str, bytes]:
    """What macOS Finder adds to a tree it compresses (under `top`, '' for none): .DS_Store and __MACOSX/ '._' twins."""
    prefix = f"{top}/" if top else ""
    junk = {f"{prefix}.DS_Store": b"\x00\x00\x00\x01Bud1", f"{prefix}train/angry/.DS_Store": b"\x00\x00\x00\x01Bud1"}
    for name in files:
        folder, _, base = name.rpartition("/")
        junk[f"__MACOSX/{prefix}{folder}/._{base}"] = APPLEDOUBLE
    return junk


def explorer_junk(top: str = "") -> dict[str, bytes]:
    """What Windows Explorer leaves in folders (under `top`): Thumbs.db thumbnail caches and desktop.ini settings."""
    prefix = f"{top}/" if top else ""
    return {f"{prefix}train/happy/Thumbs.db": b"\xd0\xcf\x11\xe0", f"{prefix}Desktop.ini": b"[.ShellClassInfo]\r\n"}


def with_folder_entries(members: dict[str, bytes]) -> dict[str, bytes]:
    """The members preceded by a directory entry for every folder, as Finder and Explorer write them."""
    folders = {name[: i + 1] for name in members for i, ch in enumerate(name) if ch == "/"}
    return dict.fromkeys(sorted(folders), b"") | members


def write_zip_members(path: Path, members: dict[str, bytes]) -> Path:
    """A zip holding exactly these members (names ending in '/' are directory entries), nothing added."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def write_spreadsheet_csv(path: Path, columns: tuple[str, ...] = ("emotion", "pixels", "Usage"), delimiter: str = ",",
                          bom: bool = False, crlf: bool = False, quote: bool = False, empty_rows: int = 0) -> Path:
    """CSV_ROWS as a spreadsheet may save them: any column order, extra columns ('' for Excel's trailing empty one, any
    other name for a row number), another delimiter, a BOM, CRLF, every field quoted, empty rows (',,') at the end."""
    def cell(name: str, i: int, emotion: object, usage: object) -> str:
        values = {"emotion": str(emotion), "pixels": " ".join(map(str, pixels(i))), "Usage": str(usage), "": ""}
        return values.get(name, str(i))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n",
                        quoting=csv.QUOTE_ALL if quote else csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows([cell(c, i, e, u) for c in columns] for i, (e, u) in enumerate(CSV_ROWS))
    writer.writerows([[""] * len(columns)] * empty_rows)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + buf.getvalue().encode())
    return path


def assert_same_dataset(got, expected) -> None:
    """Two RawDatasets hold the same images, labels, splits, usage and ids, in the same order."""
    for field in ("images", "labels", "split", "usage", "ids"):
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), err_msg=field)


def small_model(family: str = "mlp", activation: str = "relu", hidden=(16,), channels=(4, 8), convs: int = 2,
                dropout: float = 0.0, batch_norm: bool = False) -> ModelParams:
    """Small model params with only the family's own fields: an MLP takes `hidden`, a CNN `channels` and `convs`."""
    common = {"family": family, "activation": activation, "dropout": dropout, "batch_norm": batch_norm}
    if family == "mlp":
        return MlpParams(**common, hidden=tuple(hidden))
    return CnnParams(**common, channels=tuple(channels), convs=convs)
