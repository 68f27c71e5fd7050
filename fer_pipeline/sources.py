"""Readers that turn every supported FER2013 source into one RawDataset."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import sys
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

from fer_pipeline import CLASSES, IMAGE_SIZE, FerError
from fer_pipeline.dataset import SPLITS, RawDataset
from fer_pipeline.params import DataParams

# fer2013.csv numbers emotions in this order, which is NOT alphabetical: map by name.
CSV_EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CSV_USAGE = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
KAGGLE_HINT = (
    "download archive.zip from https://www.kaggle.com/datasets/msambare/fer2013 "
    "and put it at data/raw/archive.zip (or set data.path to it)"
)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def decode_image(data: bytes, where: str) -> np.ndarray:
    """Decode one image file's bytes to a (48,48) uint8 array; reject anything else."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            mode, size = img.mode, img.size
            arr = np.asarray(img)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise FerError(f"{where}: cannot decode image ({e}); replace or remove the file") from None
    if mode != "L":
        raise FerError(f"{where}: image mode {mode}, expected 8-bit grayscale (L); FER2013 images are grayscale")
    if size != (IMAGE_SIZE, IMAGE_SIZE):
        raise FerError(f"{where}: image is {size[0]}x{size[1]}, expected {IMAGE_SIZE}x{IMAGE_SIZE}")
    return arr


def _parse_member(name: str, where: str) -> tuple[str, str] | None:
    """(split, class) of an image path `split/class/file`, None for folders; reject unsafe or odd paths."""
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise FerError(f"{where}: unsafe member path {name!r} (absolute or '..'); refusing this archive")
    if name.endswith("/"):
        return None
    parts = p.parts
    if len(parts) != 3 or parts[0] not in SPLITS:
        raise FerError(f"{where}: unexpected member {name!r}; expected train/<class>/<file>.jpg or test/<class>/<file>.jpg")
    if parts[1] not in CLASSES:
        raise FerError(f"{where}: unknown class folder {parts[1]!r} in {name!r}; allowed: {', '.join(CLASSES)}")
    if p.suffix.lower() not in IMAGE_SUFFIXES:
        raise FerError(f"{where}: member {name!r} is not a .jpg image; remove it from the archive")
    return parts[0], parts[1]


def _assemble(images: list[np.ndarray], labels: list[int], splits: list[str], ids: list[str], where: str) -> RawDataset:
    """Build a RawDataset and check every split and class is present."""
    if not images:
        raise FerError(f"{where}: no images found; expected train/<class>/*.jpg and test/<class>/*.jpg")
    ds = RawDataset(
        images=np.stack(images).astype(np.uint8),
        labels=np.asarray(labels, dtype=np.int64),
        split=np.asarray(splits, dtype=str),
        usage=np.asarray(["Training" if s == "train" else "Test" for s in splits], dtype=str),
        ids=np.asarray(ids, dtype=str),
    )
    _check_complete(ds, where)
    return ds


def _check_complete(ds: RawDataset, where: str) -> None:
    """Every split has images and every class appears in train."""
    counts = ds.counts()
    for s in SPLITS:
        if sum(counts[s].values()) == 0:
            raise FerError(f"{where}: split '{s}' has no images; the data set needs both train and test")
    missing = [c for c, n in counts["train"].items() if n == 0]
    if missing:
        raise FerError(f"{where}: class {missing[0]!r} has no training images; all of {', '.join(CLASSES)} are needed")


def read_archive(path: str | Path) -> RawDataset:
    """Read Kaggle's msambare archive.zip straight from the zip, extracting nothing to disk."""
    where = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise FerError(f"{where}: not a readable zip archive ({e}); download it again") from None
    images, labels, splits, ids = [], [], [], []
    with zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if stat.S_ISLNK(info.external_attr >> 16):
                raise FerError(f"{where}: member {info.filename!r} is a symbolic link; refusing this archive")
            parsed = _parse_member(info.filename, where)
            if parsed is None:
                continue
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:  # zlib: corrupt deflate stream
                raise FerError(f"{where}: member {info.filename!r} is corrupt ({e}); download the archive again") from None
            images.append(decode_image(data, f"{where}:{info.filename}"))
            labels.append(CLASSES.index(parsed[1]))
            splits.append(parsed[0])
            ids.append(info.filename)
    return _assemble(images, labels, splits, ids, where)


def read_folder(path: str | Path) -> RawDataset:
    """Read the same train/<class>/*.jpg, test/<class>/*.jpg tree already extracted to a folder."""
    root = Path(path)
    images, labels, splits, ids = [], [], [], []
    for split_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if split_dir.name not in SPLITS:
            raise FerError(f"{split_dir}: unexpected folder; expected only {' and '.join(SPLITS)} under {root}")
        for class_dir in sorted(p for p in split_dir.iterdir() if not p.name.startswith(".")):
            if not class_dir.is_dir() or class_dir.name not in CLASSES:
                raise FerError(f"{class_dir}: unknown class folder; allowed: {', '.join(CLASSES)}")
            for f in sorted(class_dir.iterdir()):
                if f.name.startswith("."):
                    continue
                rel = f.relative_to(root).as_posix()
                _parse_member(rel, str(root))
                images.append(decode_image(f.read_bytes(), str(f)))
                labels.append(CLASSES.index(class_dir.name))
                splits.append(split_dir.name)
                ids.append(rel)
    return _assemble(images, labels, splits, ids, str(root))


def read_csv(path: str | Path) -> RawDataset:
    """Read the original challenge file fer2013.csv (emotion,pixels,Usage), mapping labels by name."""
    import pandas as pd

    where = str(path)
    try:
        df = pd.read_csv(path, dtype={"pixels": str, "Usage": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as e:
        raise FerError(f"{where}: not a readable CSV ({str(e).splitlines()[0]})") from None
    for col in ("emotion", "pixels", "Usage"):
        if col not in df.columns:
            raise FerError(f"{where}: missing column {col!r}; fer2013.csv has columns emotion,pixels,Usage")
    n = IMAGE_SIZE * IMAGE_SIZE
    images = np.empty((len(df), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    labels = np.empty(len(df), dtype=np.int64)
    for i, (emotion, pixels, usage) in enumerate(zip(df["emotion"], df["pixels"], df["Usage"], strict=True)):
        row = f"{where}: row {i + 2}"  # +2: header line, 1-based lines
        try:
            values = np.array(str(pixels).split(), dtype=np.int64)
        except ValueError:
            raise FerError(f"{row}: pixels must be {n} integers separated by spaces") from None
        if values.size != n:
            raise FerError(f"{row}: pixels has {values.size} values, expected {n} (48x48)")
        if values.min() < 0 or values.max() > 255:
            raise FerError(f"{row}: pixel values must be in 0-255, found {values.min()}..{values.max()}")
        if not isinstance(emotion, (int, np.integer)) or not 0 <= emotion < len(CSV_EMOTIONS):
            raise FerError(f"{row}: unknown emotion index {emotion!r}; expected 0-6")
        if usage not in CSV_USAGE:
            raise FerError(f"{row}: unknown Usage {usage!r}; expected one of {', '.join(CSV_USAGE)}")
        images[i] = values.reshape(IMAGE_SIZE, IMAGE_SIZE)
        labels[i] = CLASSES.index(CSV_EMOTIONS[emotion])
    usage = df["Usage"].to_numpy(dtype=str)
    ds = RawDataset(
        images=images,
        labels=labels,
        split=np.asarray([CSV_USAGE[u] for u in usage], dtype=str),
        usage=usage,
        ids=np.asarray([f"{Path(path).name}:row{i + 2}" for i in range(len(df))], dtype=str),
    )
    if len(ds) == 0:
        raise FerError(f"{where}: no rows; expected fer2013.csv with emotion,pixels,Usage rows")
    _check_complete(ds, where)
    return ds


def read_kaggle() -> RawDataset:
    """Download msambare/fer2013 with kagglehub when credentials exist, else explain how to get it."""
    has_env = os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY")
    has_file = (Path.home() / ".kaggle" / "kaggle.json").is_file() or os.environ.get("KAGGLE_API_TOKEN")
    if not (has_env or has_file):
        raise FerError(f"data.source=kaggle: no Kaggle credentials (~/.kaggle/kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY); {KAGGLE_HINT}")
    try:
        import kagglehub
    except ImportError:
        raise FerError("data.source=kaggle: kagglehub is not installed; run `pip install kagglehub` or " + KAGGLE_HINT) from None
    try:
        folder = kagglehub.dataset_download("msambare/fer2013")
    except Exception as e:  # network, auth, quota: all mean the same thing to the user
        raise FerError(f"data.source=kaggle: download failed ({e}); {KAGGLE_HINT}") from None
    return read_folder(folder)


def resolve_source(data: DataParams) -> tuple[str, Path | None]:
    """Pick the concrete source (archive|folder|csv|kaggle|synthetic) and its path from data params."""
    path = Path(data.path)
    if data.source in ("synthetic", "kaggle"):
        return data.source, None
    if data.source != "auto":
        if not path.exists():
            raise FerError(f"data.path: {path} does not exist; {KAGGLE_HINT}")
        if data.source == "folder" and not path.is_dir():
            raise FerError(f"data.path: {path} is not a folder; data.source=folder needs the extracted train/ test/ tree")
        if data.source in ("archive", "csv") and path.is_dir():
            path = path / ("archive.zip" if data.source == "archive" else "fer2013.csv")
            if not path.is_file():
                raise FerError(f"data.path: {path} not found; {KAGGLE_HINT}")
        return data.source, path
    if not path.exists():
        raise FerError(f"data.path: {path} does not exist; create it (data/raw) or point data.path at your data")
    if path.is_file():
        if path.suffix == ".zip":
            return "archive", path
        if path.suffix == ".csv":
            return "csv", path
        raise FerError(f"data.path: {path} is neither a .zip nor a .csv; set data.source explicitly")
    for name, kind in (("archive.zip", "archive"), ("fer2013.csv", "csv")):
        if (path / name).is_file():
            return kind, path / name
    if (path / "train").is_dir() and (path / "test").is_dir():
        return "folder", path
    print(
        f"WARNING: no FER2013 found under {path} (archive.zip, fer2013.csv or train/ test/); "
        f"using the generated SYNTHETIC stand-in. To use the real data, {KAGGLE_HINT}.",
        file=sys.stderr,
    )
    return "synthetic", None


def read_source(kind: str, path: Path | None, data: DataParams) -> RawDataset:
    """Read one resolved source."""
    if kind == "synthetic":
        from fer_pipeline.synthetic import generate

        s = data.synthetic
        return generate(s.train_size, s.test_size, s.seed, s.duplicate_fraction)
    if kind == "kaggle":
        return read_kaggle()
    assert path is not None
    return {"archive": read_archive, "folder": read_folder, "csv": read_csv}[kind](path)
