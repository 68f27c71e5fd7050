"""Readers that turn every supported FER2013 source into one RawDataset."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import mmap
import os
import stat
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError

from fer_pipeline import CLASSES, IMAGE_SIZE, FerError
from fer_pipeline.data.dataset import SPLITS, RawDataset
from fer_pipeline.params import DataParams

# fer2013.csv numbers emotions in this order, which is NOT alphabetical: map by name.
CSV_EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CSV_USAGE = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
CSV_COLUMNS = ("emotion", "pixels", "Usage")
# ',' first: the original file's; ';' is what Excel writes under European locales, tab its "Text (Tab delimited)".
CSV_DELIMITERS = (",", ";", "\t")
# Left by Finder ("Compress", or unzipping a Finder zip elsewhere) and Windows Explorer; hidden names are junk too.
OS_JUNK_NAMES = frozenset({"__macosx", "thumbs.db", "desktop.ini"})
# Below this many images, one thread decodes them all: a second saves nothing worth its start (the tests' tiny trees).
PARALLEL_MIN_IMAGES = 4096
# A zip member's local header (APPNOTE 4.3.7): signature, flags, method and the two lengths after it, the rest skipped.
LOCAL_HEADER = struct.Struct("<4s2xHH16xHH")
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


def _decode_gray_jpeg(data: bytes) -> np.ndarray | None:
    """The (48,48) pixels of a clean 8-bit grayscale 48x48 JPEG, decoded by libjpeg-turbo through simplejpeg; None
    for anything else (another format, size or colour space, or any error libjpeg reports, even one it recovers
    from), which PIL then decides. simplejpeg skips PIL's Python header parsing, most of PIL's time on a 48x48 face
    (3.6x faster over FER2013), and gives PIL's pixels: both run libjpeg-turbo's default (islow) inverse DCT."""
    if not data.startswith(b"\xff\xd8"):  # not a JPEG (a .png, or junk PIL names in its error)
        return None
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data, strict=True)
        if colorspace != "Gray" or (height, width) != (IMAGE_SIZE, IMAGE_SIZE):
            return None
        return simplejpeg.decode_jpeg(data, colorspace="GRAY", strict=True)[:, :, 0]
    except ValueError:  # simplejpeg's only error: a corrupt or unsupported stream
        return None


def decode_image(data: bytes, where: str) -> np.ndarray:
    """Decode one image file's bytes to a (48,48) uint8 array; reject anything else.

    A clean grayscale 48x48 JPEG (every FER2013 image) takes the fast path; everything else goes through PIL, which
    accepts or refuses it and words the error, so what is accepted and every message are PIL's."""
    fast = _decode_gray_jpeg(data)
    return fast if fast is not None else _decode_with_pil(data, where)


def _decode_with_pil(data: bytes, where: str) -> np.ndarray:
    """decode_image's general path: PIL decodes any format it knows, and the checks word what is wrong."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            mode, size = img.mode, img.size
            arr = np.asarray(img)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise FerError(f"{where}: cannot decode image ({e}); replace or remove the file") from None
    if mode != "L":
        raise FerError(f"{where}: image mode {mode}, expected 8-bit grayscale (L); FER2013 images are grayscale: convert or remove it")
    if size != (IMAGE_SIZE, IMAGE_SIZE):
        raise FerError(f"{where}: image is {size[0]}x{size[1]}, expected {IMAGE_SIZE}x{IMAGE_SIZE}; resize or remove it")
    return arr


@dataclass(frozen=True)
class Origin:
    """Where entries come from, so every message names the path and speaks of an archive or a folder as the user has it."""

    path: str
    kind: str  # "archive" or "folder"

    @property
    def entry(self) -> str:
        """What one item of this source is called in messages."""
        return "member" if self.kind == "archive" else "file"


def is_os_junk(name: str) -> bool:
    """A file or folder name that operating systems and file managers leave next to data, never an image of the data set.

    Hidden names cover .DS_Store and macOS's ._<name> AppleDouble files; the rest are Finder's __MACOSX/ and Windows
    Explorer's Thumbs.db and desktop.ini (any case: Windows names are case-insensitive). Nothing else is skipped, so a
    real stray file still stops the read."""
    return name.startswith(".") or name.casefold() in OS_JUNK_NAMES


def _is_junk_path(name: str) -> bool:
    """Whether any component of a '/'-separated path is OS junk (everything under __MACOSX/ is)."""
    return any(is_os_junk(part) for part in name.split("/") if part)


def _junk_kind(name: str) -> str:
    """How the note shows a skipped entry: its junk folder as '__MACOSX/...', AppleDouble files as '._*', else the name."""
    parts = name.rstrip("/").split("/")
    i = next(i for i, part in enumerate(parts) if is_os_junk(part))
    if i < len(parts) - 1 or name.endswith("/"):
        return f"{parts[i]}/..."
    return "._*" if parts[i].startswith("._") else parts[i]


def _single_wrapper(tops: list[str], inside: Callable[[str], set[str]]) -> str | None:
    """The one top folder a re-packed data set sits in (Finder's Compress, Explorer's Send to, unzipping into a folder).

    Taken only when it is the sole top-level entry, is not itself train/ or test/, and holds train/ or test/; anything
    looser is ambiguous and keeps today's layout errors."""
    if len(tops) != 1 or tops[0] in SPLITS:
        return None
    return tops[0] if inside(tops[0]) & set(SPLITS) else None


def _print_note(where: str, parts: list[str]) -> None:
    """One stderr line saying what an accepted source had that was skipped or adapted: nothing is dropped silently."""
    if parts:
        print(f"note: {where}: {'; '.join(parts)}", file=sys.stderr)


def _tree_note(where: str, skipped: list[str], wrapper: str | None) -> None:
    """The note for an archive or folder: the OS junk skipped (by kind) and the top folder read through."""
    parts = []
    if skipped:
        kinds = list(dict.fromkeys(_junk_kind(name) for name in skipped))
        shown = ", ".join(kinds[:4]) + (", ..." if len(kinds) > 4 else "")
        entries = "entry" if len(skipped) == 1 else "entries"
        parts.append(f"skipped {len(skipped)} {entries} left by the operating system or a file manager ({shown})")
    if wrapper:
        parts.append(f"read train/ and test/ from inside its single top folder '{wrapper}/'")
    _print_note(where, parts)


def _check_safe_member(info: zipfile.ZipInfo, where: str) -> None:
    """Refuse members that could escape a folder or point elsewhere, junk or not: nothing is extracted, but an archive
    holding them was not made from a plain train/ test/ tree, and a later extraction by hand would be unsafe."""
    name = info.filename
    if name.startswith("/") or ".." in name.split("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise FerError(f"{where}: unsafe member path {name!r} (absolute, '..', a drive or backslashes); refusing this archive; "
                       "re-create it with relative paths separated by '/'")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise FerError(f"{where}: member {name!r} is a symbolic link; refusing this archive; re-create it from the real files")


def _check_suffix(name: str, origin: Origin) -> None:
    """Only image files belong in a class folder."""
    base = name.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    suffix = base[dot:] if 0 < dot < len(base) - 1 else ""  # as PurePosixPath(name).suffix, without its cost
    if suffix.lower() not in IMAGE_SUFFIXES:
        raise FerError(f"{origin.path}: {origin.entry} {name!r} is not a .jpg image; remove it from the {origin.kind}")


def _parse_member(name: str, prefix: str, origin: Origin) -> tuple[str, str] | None:
    """(split, class) of an entry `<prefix>split/class/file`, None for folder entries; messages show the name as stored."""
    rel = name[len(prefix):]
    if not rel or rel.endswith("/"):
        return None
    parts = [part for part in rel.split("/") if part not in ("", ".")]  # as PurePosixPath(rel).parts, without its cost
    if len(parts) != 3 or parts[0] not in SPLITS:
        raise FerError(f"{origin.path}: unexpected {origin.entry} {name!r}; expected {prefix}train/<class>/<file>.jpg or "
                       f"{prefix}test/<class>/<file>.jpg; remove it from the {origin.kind}")
    if parts[1] not in CLASSES:
        raise FerError(f"{origin.path}: unknown class folder {parts[1]!r} in {name!r}; allowed: {', '.join(CLASSES)}; "
                       f"rename or remove it in the {origin.kind}")
    _check_suffix(name, origin)
    return parts[0], parts[1]


def _assemble(images: np.ndarray, labels: list[int], splits: list[str], ids: list[str], origin: Origin) -> RawDataset:
    """Build a RawDataset from the decoded (n, 48, 48) images and check every split and class is present."""
    if not len(images):
        raise FerError(f"{origin.path}: no images found; expected train/<class>/*.jpg and test/<class>/*.jpg in this {origin.kind}")
    ds = RawDataset(
        images=images,
        labels=np.asarray(labels, dtype=np.int64),
        split=np.asarray(splits, dtype=str),
        usage=np.asarray(["Training" if s == "train" else "Test" for s in splits], dtype=str),
        ids=np.asarray(ids, dtype=str),
    )
    _check_complete(ds, origin.path)
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


def _archive_wrapper(names: list[str]) -> str | None:
    """The single top folder of an archive's (non-junk) member names, if it wraps train/ and test/."""
    tops = list(dict.fromkeys(name.split("/", 1)[0] for name in names))
    return _single_wrapper(tops, lambda top: {n.split("/")[1] for n in names if n.startswith(f"{top}/")})


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    """One member's bytes, in memory, through zipfile (which words what is wrong): nothing is ever extracted to disk."""
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:  # zlib: corrupt deflate stream
        raise FerError(f"{where}: member {info.filename!r} is corrupt ({e}); download the archive again") from None


def _plain_member(raw: mmap.mmap, info: zipfile.ZipInfo) -> bytes | None:
    """A member's bytes sliced from the mapped archive and inflated in C; None for anything but an unencrypted
    stored or deflated member whose local header names it as the central directory does and whose length and
    CRC-32 match it, which zipfile then reads (refusing it in its own words). Every FER2013 member takes this path:
    zipfile's per-member Python (a file object, header parsing, a CRC in chunks) is 6x the inflating itself."""
    try:
        signature, flags, method, name_len, extra_len = LOCAL_HEADER.unpack_from(raw, info.header_offset)
    except struct.error:  # the header lies past the end of the file
        return None
    if signature != b"PK\x03\x04" or flags & 0x1 or method != info.compress_type:  # 0x1: encrypted
        return None
    name_at = info.header_offset + LOCAL_HEADER.size
    name = raw[name_at:name_at + name_len].decode("utf-8" if flags & 0x800 else "cp437", "replace")  # 0x800: UTF-8
    if name != info.orig_filename:
        return None
    data_at = name_at + name_len + extra_len
    data = raw[data_at:data_at + info.compress_size]
    if method == zipfile.ZIP_DEFLATED:
        try:
            data = zlib.decompress(data, -zlib.MAX_WBITS)  # negative: a raw deflate stream, as zip stores it
        except zlib.error:
            return None
    elif method != zipfile.ZIP_STORED:
        return None
    return data if len(data) == info.file_size and zlib.crc32(data) == info.CRC else None


def _member_reader(zf: zipfile.ZipFile, raw: mmap.mmap, where: str) -> Callable[[zipfile.ZipInfo], tuple[bytes, str]]:
    """decode_all's `read` for an archive: a member's bytes by the plain path, else through zipfile; its name."""

    def read(info: zipfile.ZipInfo) -> tuple[bytes, str]:
        data = _plain_member(raw, info)
        return (data if data is not None else _read_member(zf, info, where)), f"{where}:{info.filename}"

    return read


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one: a container's or taskset's limit)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _read_file(f: Path) -> tuple[bytes, str]:
    """A folder file's bytes and how messages name it."""
    return _read_no_follow(f), str(f)


def _decode_chunk(blobs: Sequence[tuple[bytes, str]]) -> np.ndarray:
    """Decode consecutive (bytes, name) items, in order, into one (n, 48, 48) uint8 array."""
    out = np.empty((len(blobs), IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    for i, (data, where) in enumerate(blobs):
        out[i] = decode_image(data, where)
    return out


def decode_all(read: Callable, items: Sequence, workers: int | None = None) -> np.ndarray:
    """Every item's image, in order: `read(item)` gives its bytes and the name messages use for it, and `workers`
    threads (None: one per usable core) decode them in contiguous chunks.

    Decoding is most of a fetch and each image is independent. It runs in C that releases the GIL (libjpeg-turbo
    through simplejpeg, which decodes every FER2013 image; only PIL's fallback holds it), so threads share it out.
    Reading is one pass in this thread first: it is mostly Python, and threads that take turns at the GIL for
    every image ran slower than one. The result is the one-thread result bit for bit, and a bad item raises the
    same error, for the first bad item in order: chunks are consumed in order, each decodes its items in order,
    and an item that cannot be read raises only after every item before it decoded. With `workers` None, fewer
    than PARALLEL_MIN_IMAGES items decode in this thread."""
    blobs, unreadable = [], None
    for item in items:
        try:
            blobs.append(read(item))
        except (FerError, OSError) as e:
            unreadable = e
            break
    if workers is None:
        workers = usable_cores() if len(items) >= PARALLEL_MIN_IMAGES else 1
    workers = max(1, min(workers, len(blobs)))
    if workers == 1:
        images = _decode_chunk(blobs)
    else:
        bounds = np.linspace(0, len(blobs), workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(_decode_chunk, blobs[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            try:
                images = np.concatenate([f.result() for f in futures])
            finally:
                for f in futures:  # after an error, chunks not yet started need not run
                    f.cancel()
    if unreadable is not None:
        raise unreadable
    return images


def read_archive(path: str | Path, workers: int | None = None) -> RawDataset:
    """Read Kaggle's msambare archive.zip straight from the zip, extracting nothing to disk.

    OS junk members are skipped and one top folder around train/ and test/ is read through, with a note saying so.
    `workers`: decoding threads (None: one per usable core, see decode_all)."""
    origin = Origin(str(path), "archive")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise FerError(f"{origin.path}: not a readable zip archive ({e}); download it again") from None
    members, labels, splits, ids = [], [], [], []
    with zf:
        infos = sorted(zf.infolist(), key=lambda i: i.filename)
        for info in infos:
            _check_safe_member(info, origin.path)
        junk = [_is_junk_path(i.filename) for i in infos]
        skipped = [i.filename for i, j in zip(infos, junk, strict=True) if j]
        kept = [i for i, j in zip(infos, junk, strict=True) if not j]
        wrapper = _archive_wrapper([i.filename for i in kept])
        prefix = f"{wrapper}/" if wrapper else ""
        for info in kept:  # every name is checked before any image is decoded: a misplaced file is found in a blink
            parsed = _parse_member(info.filename, prefix, origin)
            if parsed is None:
                continue
            members.append(info)
            labels.append(CLASSES.index(parsed[1]))
            splits.append(parsed[0])
            ids.append(info.filename[len(prefix):])  # ids as in the clean archive, so results do not depend on packing
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as raw:
            images = decode_all(_member_reader(zf, raw, origin.path), members, workers)
    ds = _assemble(images, labels, splits, ids, origin)
    _tree_note(origin.path, skipped, wrapper)  # only once the read succeeded: a refusal stays one line
    return ds


def _refuse_link(p: Path) -> None:
    """Sources never follow symbolic links: a link could pull in files from anywhere."""
    if p.is_symlink():
        raise FerError(f"{p}: is a symbolic link; links are never followed in a data folder; put the real file or folder there")


def _rel(p: Path, root: Path, is_dir: bool = False) -> str:
    """p relative to the source folder, '/'-separated, as notes and messages show it."""
    return p.relative_to(root).as_posix() + ("/" if is_dir else "")


def _top_dirs(top: Path, root: Path, skipped: list[str]) -> list[Path]:
    """The real folders directly in `top`; OS junk folders are skipped. Loose files there are not part of the tree and
    are never opened (data/raw also holds DVC's and git's files)."""
    dirs = []
    for p in sorted(top.iterdir()):
        if p.is_symlink():
            if p.name in SPLITS:  # anything else is a loose entry, not read; a linked split would be silently missing
                _refuse_link(p)
            continue
        if not p.is_dir():
            continue
        if is_os_junk(p.name):
            skipped.append(_rel(p, root, is_dir=True))
        else:
            dirs.append(p)
    return dirs


def folder_root(root: Path, skipped: list[str] | None = None) -> tuple[Path, list[Path], str | None]:
    """The folder that holds train/ and test/ (root, or its single wrapper folder), its folders, and the wrapper's name."""
    skipped = [] if skipped is None else skipped
    dirs = _top_dirs(root, root, skipped)
    wrapper = _single_wrapper([d.name for d in dirs], lambda top: {c.name for c in (root / top).iterdir()})
    if wrapper is None:
        return root, dirs, None
    return root / wrapper, _top_dirs(root / wrapper, root, skipped), wrapper


def _class_dirs(split_dir: Path, root: Path, skipped: list[str]) -> list[Path]:
    """The class folders of one split; OS junk skipped, anything else unknown refused."""
    dirs = []
    for p in sorted(split_dir.iterdir()):
        if is_os_junk(p.name):
            skipped.append(_rel(p, root, is_dir=p.is_dir() and not p.is_symlink()))
            continue
        _refuse_link(p)
        if not p.is_dir():
            raise FerError(f"{p}: unexpected file; {split_dir.name}/ holds only the class folders {', '.join(CLASSES)}; remove it")
        if p.name not in CLASSES:
            raise FerError(f"{p}: unknown class folder; allowed: {', '.join(CLASSES)}; rename or remove it")
        dirs.append(p)
    return dirs


def _image_files(class_dir: Path, root: Path, origin: Origin, skipped: list[str]) -> list[Path]:
    """The image files of one class folder; OS junk skipped, links, sub-folders and other files refused."""
    files = []
    for p in sorted(class_dir.iterdir()):
        if is_os_junk(p.name):
            skipped.append(_rel(p, root, is_dir=p.is_dir() and not p.is_symlink()))
            continue
        _refuse_link(p)
        if p.is_dir():
            raise FerError(f"{origin.path}: unexpected folder {_rel(p, root)!r}; expected train/<class>/<file>.jpg or "
                           "test/<class>/<file>.jpg; remove it from the folder")
        if not p.is_file():
            raise FerError(f"{p}: not a regular file; remove it from the folder")
        _check_suffix(_rel(p, root), origin)
        files.append(p)
    return files


def _read_no_follow(p: Path) -> bytes:
    """A file's bytes, refusing (ELOOP) a link swapped in after the folder was listed."""
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        return f.read()


def read_folder(path: str | Path, workers: int | None = None) -> RawDataset:
    """Read the same train/<class>/*.jpg, test/<class>/*.jpg tree already extracted to a folder.

    OS junk is skipped and one wrapper folder around train/ and test/ is read through, with a note saying so.
    `workers`: decoding threads (None: one per usable core, see decode_all)."""
    root = Path(path)
    origin = Origin(str(root), "folder")
    skipped: list[str] = []
    top, split_dirs, wrapper = folder_root(root, skipped)
    files, labels, splits, ids = [], [], [], []
    for split_dir in split_dirs:
        if split_dir.name not in SPLITS:
            raise FerError(f"{split_dir}: unexpected folder; expected only {' and '.join(SPLITS)} under {top}; move or remove it")
        for class_dir in _class_dirs(split_dir, root, skipped):
            for f in _image_files(class_dir, root, origin, skipped):
                files.append(f)
                labels.append(CLASSES.index(class_dir.name))
                splits.append(split_dir.name)
                ids.append(_rel(f, top))  # relative to the tree, as in the clean folder
    ds = _assemble(decode_all(_read_file, files, workers), labels, splits, ids, origin)
    _tree_note(origin.path, skipped, wrapper)
    return ds


def _has_bom(path: str | Path) -> bool:
    """Whether the file starts with a UTF-8 byte-order mark (Excel's "CSV UTF-8" writes one)."""
    with open(path, "rb") as f:
        return f.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8


def _csv_header(line: str, where: str) -> tuple[str, list[str]]:
    """The delimiter and header fields: the first of , ; tab that splits the header into emotion, pixels and Usage."""
    if not line.strip():
        raise FerError(f"{where}: empty first line; fer2013.csv starts with the header emotion,pixels,Usage")
    parsed = {d: next(csv.reader([line], delimiter=d)) for d in CSV_DELIMITERS}
    found = {d: [c for c in CSV_COLUMNS if c.casefold() in _folded(fields)] for d, fields in parsed.items()}
    best = max(CSV_DELIMITERS, key=lambda d: len(found[d]))  # ties keep ',' (the first)
    missing = [c for c in CSV_COLUMNS if c not in found[best]]
    if missing:
        raise FerError(f"{where}: missing column {missing[0]!r}; fer2013.csv has columns emotion,pixels,Usage")
    return best, parsed[best]


def _folded(fields: list[str]) -> list[str]:
    """Header names as compared: spreadsheets may pad them with spaces or change their case."""
    return [f.strip().casefold() for f in fields]


def _csv_columns(header: list[str], where: str) -> tuple[dict[str, int], list[str]]:
    """Index of each needed column (by name, in any order) and the names of the extra columns that are ignored."""
    folded = _folded(header)
    for col in CSV_COLUMNS:
        if folded.count(col.casefold()) > 1:
            raise FerError(f"{where}: column {col!r} appears {folded.count(col.casefold())} times in the header; keep one")
    index = {col: folded.index(col.casefold()) for col in CSV_COLUMNS}
    extra = [h.strip() for i, h in enumerate(header) if i not in index.values()]
    return index, extra


def _csv_pixels(text: str, row: str) -> np.ndarray:
    """One row's 48x48 image from its space-separated pixel values."""
    n = IMAGE_SIZE * IMAGE_SIZE
    try:
        values = np.array(text.split(), dtype=np.int64)
    except ValueError:
        raise FerError(f"{row}: pixels must be {n} integers separated by spaces") from None
    if values.size != n:
        raise FerError(f"{row}: pixels has {values.size} values, expected {n} (48x48)")
    if values.min() < 0 or values.max() > 255:
        raise FerError(f"{row}: pixel values must be in 0-255, found {values.min()}..{values.max()}")
    return values.reshape(IMAGE_SIZE, IMAGE_SIZE).astype(np.uint8)


def _csv_label(text: str, row: str) -> int:
    """Class index (into CLASSES) of fer2013.csv's emotion number, mapped by name."""
    text = text.strip()
    number = text.isascii() and text.isdigit()
    if not number or int(text) >= len(CSV_EMOTIONS):
        raise FerError(f"{row}: unknown emotion index {text if number else repr(text)}; expected 0-6")
    return CLASSES.index(CSV_EMOTIONS[int(text)])


def _csv_usage(text: str, row: str) -> str:
    """The row's Usage, checked."""
    usage = text.strip()
    if usage not in CSV_USAGE:
        raise FerError(f"{row}: unknown Usage {usage!r}; expected one of {', '.join(CSV_USAGE)}")
    return usage


def _read_csv_rows(path: str | Path, where: str) -> tuple[list[tuple[int, np.ndarray, int, str]], dict[str, object]]:
    """(line, image, label, usage) per data row, and what was skipped or adapted on the way (for the note)."""
    with open(path, encoding="utf-8-sig", newline="") as f:  # utf-8-sig: drops a BOM; newline="": csv handles CRLF
        delimiter, header = _csv_header(f.readline(), where)
        index, extra = _csv_columns(header, where)
        reader = csv.reader(f, delimiter=delimiter)
        rows, empty = [], 0
        for fields in reader:
            line = reader.line_num + 1  # +1: the header line was read before the reader
            if not any(field.strip() for field in fields):  # a blank line, or Excel's ',,' for an empty row
                empty += 1
                continue
            row = f"{where}: row {line}"
            if len(fields) <= max(index.values()):
                raise FerError(f"{row}: {len(fields)} fields, but the header has {len(header)}; fix or remove the row")
            rows.append((line, _csv_pixels(fields[index["pixels"]], row), _csv_label(fields[index["emotion"]], row),
                         _csv_usage(fields[index["Usage"]], row)))
    return rows, {"delimiter": delimiter, "extra": extra, "empty": empty}


def _csv_note(where: str, bom: bool, found: dict[str, object]) -> None:
    """The note for a spreadsheet-saved CSV: BOM, empty rows and extra columns skipped, a delimiter other than ','."""
    skipped = []
    if bom:
        skipped.append("a byte-order mark")
    if found["empty"]:
        skipped.append(f"{found['empty']} empty row{'s' if found['empty'] != 1 else ''}")
    if found["extra"]:
        skipped.append("extra columns " + ", ".join(repr(name) if name else "(unnamed)" for name in found["extra"]))
    parts = [f"skipped {', '.join(skipped)}"] if skipped else []
    if found["delimiter"] != ",":
        parts.append(f"fields separated by {found['delimiter']!r}")
    _print_note(where, parts)


def read_csv(path: str | Path) -> RawDataset:
    """Read the original challenge file fer2013.csv (emotion,pixels,Usage), mapping labels by name.

    Also as a spreadsheet saves it: BOM, CRLF, quotes, ';' or tab delimiters, columns in any order, extra or empty
    columns, empty rows; a note says what was skipped. Errors name the file line."""
    where = str(path)
    try:
        bom = _has_bom(path)
        rows, found = _read_csv_rows(path, where)
    except (UnicodeDecodeError, csv.Error, OSError) as e:
        raise FerError(f"{where}: not a readable CSV ({str(e).splitlines()[0]}); save it as CSV (UTF-8) and rerun") from None
    if not rows:
        raise FerError(f"{where}: no rows; expected fer2013.csv with emotion,pixels,Usage rows")
    lines, images, labels, usage = zip(*rows, strict=True)
    ds = RawDataset(
        images=np.stack(images),
        labels=np.asarray(labels, dtype=np.int64),
        split=np.asarray([CSV_USAGE[u] for u in usage], dtype=str),
        usage=np.asarray(usage, dtype=str),
        ids=np.asarray([f"{Path(path).name}:row{line}" for line in lines], dtype=str),
    )
    _check_complete(ds, where)
    _csv_note(where, bom, found)
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
    top = folder_root(path)[0]  # the tree may sit in one wrapper folder, as an unzipped Finder archive leaves it
    if all((top / split).is_dir() for split in SPLITS):
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
        from fer_pipeline.data.synthetic import generate

        s = data.synthetic
        return generate(s.train_size, s.test_size, s.seed, s.duplicate_fraction)
    if kind == "kaggle":
        return read_kaggle()
    assert path is not None
    return {"archive": read_archive, "folder": read_folder, "csv": read_csv}[kind](path)
