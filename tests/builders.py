"""Builders of tiny FER2013-shaped fixtures (zip, folder) shared by the source and error tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image

from fer_pipeline import CLASSES

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
