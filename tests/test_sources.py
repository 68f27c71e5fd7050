"""fer_pipeline.data.sources: archive, folder and CSV readers, their refusals, and source resolution."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_pipeline import CLASSES, FerError
from fer_pipeline.data import sources
from fer_pipeline.data.sources import read_archive, read_csv, read_folder, read_kaggle, read_source, resolve_source
from fer_pipeline.params import DataParams, SyntheticParams

from .builders import (
    APPLEDOUBLE,
    CSV_ROWS,
    TEST_FILES,
    TRAIN_LEVEL,
    assert_same_dataset,
    explorer_junk,
    finder_junk,
    jpeg,
    pixels,
    tree,
    with_folder_entries,
    wrapped,
    write_csv,
    write_spreadsheet_csv,
    write_tree,
    write_zip,
    write_zip_members,
)


def check_tree_dataset(ds) -> None:
    """The data set read from tree(): counts, labels by folder name, split, usage."""
    assert len(ds) == 9
    assert ds.images.shape == (9, 48, 48) and ds.images.dtype == np.uint8
    counts = ds.counts()
    assert counts["train"] == {c: 1 for c in CLASSES}
    assert counts["test"] == {c: int(c in ("happy", "sad")) for c in CLASSES}
    ids = list(ds.ids)
    for i, (c, level) in enumerate(TRAIN_LEVEL.items()):
        row = ids.index(f"train/{c}/im{i}.jpg")
        assert CLASSES[ds.labels[row]] == c
        assert ds.split[row] == "train" and ds.usage[row] == "Training"
        assert abs(int(ds.images[row].mean()) - level) <= 2  # lossy JPEG of a flat colour
    for name, level in TEST_FILES.items():
        row = ids.index(name)
        assert CLASSES[ds.labels[row]] == name.split("/")[1]
        assert ds.split[row] == "test" and ds.usage[row] == "Test"
        assert abs(int(ds.images[row].mean()) - level) <= 2


def data_params(source: str, path: Path) -> DataParams:
    """DataParams for resolve_source."""
    return DataParams(source=source, path=str(path), synthetic=SyntheticParams(10, 5, 0, 0.0))


# ---------------------------------------------------------------- archive


def test_read_archive(tmp_path):
    """read_archive reads train/<class>/x.jpg members: labels by class name, ids = member names, split from the path."""
    ds = read_archive(write_zip(tmp_path / "archive.zip", tree()))
    check_tree_dataset(ds)
    assert sorted(ds.ids) == sorted(tree())


def test_read_folder(tmp_path):
    """read_folder reads the same tree extracted to a folder, with ids relative to the root."""
    ds = read_folder(write_tree(tmp_path / "raw", tree()))
    check_tree_dataset(ds)
    assert sorted(ds.ids) == sorted(tree())


@pytest.mark.parametrize("reader, write", [(read_archive, write_zip), (read_folder, write_tree)], ids=["archive", "folder"])
def test_decoding_in_threads_is_the_one_thread_read(tmp_path, reader, write):
    """Decoding in threads gives the one-thread data set bit for bit: same images, labels, splits and ids,
    in the same order, whatever the number of workers (more workers than images included)."""
    source = write(tmp_path / ("archive.zip" if reader is read_archive else "raw"), tree())
    one = reader(source, workers=1)
    for workers in (2, 3, 20):
        assert_same_dataset(reader(source, workers=workers), one)
        assert reader(source, workers=workers).images.flags.c_contiguous


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_decoding_in_threads_names_the_first_bad_image(tmp_path, workers):
    """With bad images in several chunks, every number of workers reports the same one: the first in member order.

    The 11 members, sorted, put the first bad image last in its chunk and the second first in the next (2 workers:
    members 0-4 and 5-10; 4 workers: 2-4 and 5-7), so the later chunk fails first: only order decides the message."""
    files = tree() | {"train/disgust/zz_bad.jpg": b"not an image", "train/fear/a_bad.jpg": jpeg(size=(64, 48))}
    with pytest.raises(FerError, match=r"archive\.zip:train/disgust/zz_bad\.jpg: cannot decode image"):
        read_archive(write_zip(tmp_path / "archive.zip", files), workers=workers)


def test_archive_names_are_checked_before_any_decoding(tmp_path):
    """A misplaced member is reported even when an image before it cannot be decoded: every name is checked first,
    so that error comes at once rather than after decoding the archive."""
    files = tree() | {"test/angry/a_bad.jpg": b"not an image", "val/angry/x.jpg": jpeg()}
    with pytest.raises(FerError, match=r"unexpected member 'val/angry/x\.jpg'"):
        read_archive(write_zip(tmp_path / "archive.zip", files))


def face_jpegs() -> dict[str, bytes]:
    """Grayscale 48x48 JPEGs as encoders write them (textured, so the inverse DCT matters), each a clean file."""
    rng = np.random.default_rng(0)
    face = (np.add.outer(np.arange(48), np.arange(48)) * 2 + rng.integers(0, 60, (48, 48))).clip(0, 255).astype(np.uint8)
    out = {}
    for name, kwargs in {"q95": {"quality": 95}, "q30": {"quality": 30}, "q100": {"quality": 100},
                         "progressive": {"quality": 75, "progressive": True}, "optimized": {"quality": 75, "optimize": True},
                         "restart markers": {"quality": 75, "restart_marker_blocks": 1},
                         "comment": {"quality": 75, "comment": b"scanned"}}.items():
        buf = io.BytesIO()
        Image.fromarray(face).save(buf, format="JPEG", **kwargs)
        out[name] = buf.getvalue()
    return out


def not_clean_images() -> dict[str, bytes]:
    """Files the fast path must leave to PIL: other formats, sizes and colour spaces, and damaged streams."""
    clean = face_jpegs()["q95"]
    png = io.BytesIO()
    Image.new("L", (48, 48), 90).save(png, format="PNG")
    cut = len(clean) * 2 // 3
    return {"png": png.getvalue(), "rgb": jpeg(mode="RGB"), "64x48": jpeg(size=(64, 48)), "text": b"not an image",
            "truncated": clean[:cut], "zeroed scan": clean[:cut] + bytes(len(clean) - cut), "header only": clean[:200],
            "trailing bytes": clean + b"junk after the end"}


def outcome(decode, data: bytes) -> tuple[str, object]:
    """What a decoder makes of one file: its pixels, or its refusal's message."""
    try:
        return "pixels", decode(data, "f.jpg").tobytes()
    except FerError as e:
        return "refused", str(e)


def test_fast_decoding_gives_pils_pixels_and_pils_verdicts():
    """decode_image's simplejpeg path returns, for every clean grayscale 48x48 JPEG, the pixels PIL decodes, and it
    takes that path (so the comparison is not vacuous); every other file (PNG, RGB, wrong size, junk, a truncated or
    zeroed stream, trailing bytes) is accepted or refused exactly as PIL alone does, with PIL's message."""
    for name, data in face_jpegs().items():
        fast = sources._decode_gray_jpeg(data)
        assert fast is not None, f"{name}: the fast path was not taken"
        assert fast.shape == (48, 48) and fast.dtype == np.uint8
        assert np.array_equal(fast, sources._decode_with_pil(data, name)), f"{name}: pixels differ from PIL's"
    for name, data in not_clean_images().items():
        assert outcome(sources.decode_image, data) == outcome(sources._decode_with_pil, data), name
    assert outcome(sources.decode_image, not_clean_images()["text"])[0] == "refused"


def test_folder_ignores_hidden_files(tmp_path):
    """Hidden files (.DS_Store) in the tree are skipped, not read as images."""
    root = write_tree(tmp_path / "raw", tree())
    (root / "train" / "angry" / ".DS_Store").write_bytes(b"junk")
    assert len(read_folder(root)) == 9


def test_archive_not_a_zip(tmp_path):
    """Random bytes named archive.zip are a FerError naming the file."""
    path = tmp_path / "archive.zip"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(FerError, match=r"archive\.zip: not a readable zip"):
        read_archive(path)


def test_archive_truncated(tmp_path):
    """A zip cut short (download interrupted) is a FerError naming the file."""
    path = write_zip(tmp_path / "archive.zip", tree())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])  # the end-of-central-directory record is lost
    with pytest.raises(FerError, match=r"archive\.zip: not a readable zip archive"):
        read_archive(path)


def test_archive_corrupt_member(tmp_path):
    """A member whose compressed bytes are damaged (central directory intact) is a FerError naming the member."""
    files = tree()
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("train/angry/im0.jpg")
    start = info.header_offset + 30 + len(info.filename.encode()) + 100  # inside the stored data
    raw[start:start + 50] = bytes(50)
    path.write_bytes(bytes(raw))
    with pytest.raises(FerError, match=r"member 'train/angry/im0\.jpg' is corrupt"):
        read_archive(path)


def zip_with(path: Path, files: dict[str, bytes], method: int) -> Path:
    """A zip of `files`, every member stored with `method`."""
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def plain_reads(path: Path) -> dict[str, bytes | None]:
    """What the plain path gives for every member of the zip at `path`."""
    with zipfile.ZipFile(path) as zf, open(path, "rb") as f, sources.mmap.mmap(f.fileno(), 0, access=sources.mmap.ACCESS_READ) as raw:
        return {info.filename: sources._plain_member(raw, info) for info in zf.infolist()}


def test_plain_path_reads_zipfiles_bytes(tmp_path):
    """The plain path gives, for every stored or deflated member, the bytes zipfile reads (so it is taken, and not
    vacuously); a member in another method (bzip2) it leaves to zipfile, and read_archive reads that archive as the
    deflated one."""
    files = tree()
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        assert plain_reads(zip_with(tmp_path / f"m{method}.zip", files, method)) == files
    bz2 = zip_with(tmp_path / "bz2.zip", files, zipfile.ZIP_BZIP2)
    assert set(plain_reads(bz2).values()) == {None}
    assert_same_dataset(read_archive(bz2), read_archive(tmp_path / f"m{zipfile.ZIP_DEFLATED}.zip"))


def patched(path: Path, member: str, offset: int, data: bytes) -> Path:
    """The zip at `path` with `data` written `offset` bytes into `member`'s local header."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        at = zf.getinfo(member).header_offset + offset
    raw[at:at + len(data)] = data
    path.write_bytes(bytes(raw))
    return path


def test_plain_path_leaves_what_it_cannot_vouch_for_to_zipfile(tmp_path):
    """A member whose local header names another file, whose bytes fail their CRC-32, or whose local flags say
    encrypted gets None from the plain path, so zipfile decides: it refuses the first two (a one-line error naming
    the member) and reads the third, as read_archive then does."""
    member, name_at = "train/angry/im0.jpg", 30
    renamed = patched(zip_with(tmp_path / "renamed.zip", tree(), zipfile.ZIP_STORED), member, name_at, b"TRAIN")
    damaged = patched(zip_with(tmp_path / "damaged.zip", tree(), zipfile.ZIP_STORED), member, name_at + len(member) + 200, bytes(8))
    flagged = patched(zip_with(tmp_path / "flagged.zip", tree(), zipfile.ZIP_STORED), member, 6, b"\x01")
    for path in (renamed, damaged, flagged):
        assert plain_reads(path)[member] is None, path.name
    for path in (renamed, damaged):
        with pytest.raises(FerError, match=rf"{path.name}: member 'train/angry/im0\.jpg' is corrupt"):
            read_archive(path)
    assert_same_dataset(read_archive(flagged), read_archive(zip_with(tmp_path / "clean.zip", tree(), zipfile.ZIP_STORED)))


@pytest.mark.parametrize("workers", [1, 2])
def test_the_first_bad_member_in_order_is_named_unreadable_or_undecodable(tmp_path, workers):
    """Reading comes before decoding, yet the error names the first bad member in order: an image that cannot be
    decoded before a member that cannot be read, and the unreadable one when it comes first."""
    files = tree() | {"train/angry/a_bad.jpg": b"not an image", "train/surprise/z.jpg": jpeg()}
    path = zip_with(tmp_path / "late.zip", files, zipfile.ZIP_STORED)
    late = patched(path, "train/surprise/z.jpg", 30 + len("train/surprise/z.jpg") + 200, bytes(8))
    with pytest.raises(FerError, match=r"late\.zip:train/angry/a_bad\.jpg: cannot decode image"):
        read_archive(late, workers=workers)
    files = tree() | {"train/angry/a_bad.jpg": jpeg(), "train/surprise/z.jpg": b"not an image"}
    path = zip_with(tmp_path / "early.zip", files, zipfile.ZIP_STORED)
    early = patched(path, "train/angry/a_bad.jpg", 30 + len("train/angry/a_bad.jpg") + 200, bytes(8))
    with pytest.raises(FerError, match=r"early\.zip: member 'train/angry/a_bad\.jpg' is corrupt"):
        read_archive(early, workers=workers)


def test_archive_member_not_jpeg(tmp_path):
    """Text bytes named .jpg cannot be decoded: FerError naming archive and member."""
    files = tree() | {"train/fear/bad.jpg": b"this is not an image\n"}
    with pytest.raises(FerError, match=r"archive\.zip:train/fear/bad\.jpg: cannot decode image"):
        read_archive(write_zip(tmp_path / "archive.zip", files))


def test_archive_wrong_size(tmp_path):
    """An image that is not 48x48 is refused, naming the member and its size."""
    files = tree() | {"train/fear/big.jpg": jpeg(size=(64, 48))}
    with pytest.raises(FerError, match=r"train/fear/big\.jpg: image is 64x48, expected 48x48"):
        read_archive(write_zip(tmp_path / "archive.zip", files))


def test_archive_rgb_image(tmp_path):
    """An RGB image is refused (FER2013 is grayscale), naming the member."""
    files = tree() | {"train/fear/rgb.jpg": jpeg(mode="RGB")}
    with pytest.raises(FerError, match=r"train/fear/rgb\.jpg: image mode RGB"):
        read_archive(write_zip(tmp_path / "archive.zip", files))


def test_archive_unknown_class(tmp_path):
    """A class folder outside CLASSES (e.g. 'contempt') is refused, naming it."""
    files = tree() | {"train/contempt/x.jpg": jpeg()}
    with pytest.raises(FerError, match=r"unknown class folder 'contempt' in 'train/contempt/x\.jpg'"):
        read_archive(write_zip(tmp_path / "archive.zip", files))


def test_archive_unexpected_layout(tmp_path):
    """A member outside split/class/file (e.g. a stray README at top level or a third split) is refused."""
    with pytest.raises(FerError, match=r"unexpected member 'README\.txt'"):
        read_archive(write_zip(tmp_path / "a.zip", tree() | {"README.txt": b"hi"}))
    with pytest.raises(FerError, match=r"unexpected member 'val/angry/x\.jpg'"):
        read_archive(write_zip(tmp_path / "b.zip", tree() | {"val/angry/x.jpg": jpeg()}))


def test_archive_missing_class(tmp_path):
    """A training set without one of the seven classes is refused, naming the class."""
    files = {k: v for k, v in tree().items() if not k.startswith("train/disgust/")}
    with pytest.raises(FerError, match=r"archive\.zip: class 'disgust' has no training images"):
        read_archive(write_zip(tmp_path / "archive.zip", files))


def test_archive_split_without_images(tmp_path):
    """An archive without test images is refused, naming the empty split."""
    files = {k: v for k, v in tree().items() if k.startswith("train/")}
    with pytest.raises(FerError, match=r"archive\.zip: split 'test' has no images"):
        read_archive(write_zip(tmp_path / "archive.zip", files))


def test_archive_empty(tmp_path):
    """A zip with no images at all is refused."""
    with pytest.raises(FerError, match=r"archive\.zip: no images found"):
        read_archive(write_zip(tmp_path / "archive.zip", {}))


@pytest.mark.parametrize("name", ["train/angry/../../evil.jpg", "/train/angry/abs.jpg", "train\\angry\\w.jpg"])
def test_archive_unsafe_member_path(tmp_path, name):
    """Members with '..', an absolute path or backslashes are refused (path traversal), naming the member."""
    info = zipfile.ZipInfo(name)
    path = write_zip(tmp_path / "archive.zip", tree(), [(info, jpeg())])
    with zipfile.ZipFile(path) as zf:
        assert name in zf.namelist()  # the hostile name really is in the archive
    with pytest.raises(FerError, match=r"unsafe member path"):
        read_archive(path)


def test_archive_symlink_member(tmp_path):
    """A symbolic-link member is refused, naming it."""
    info = zipfile.ZipInfo("train/angry/link.jpg")
    info.external_attr = 0o120777 << 16
    path = write_zip(tmp_path / "archive.zip", tree(), [(info, b"/etc/passwd")])
    with pytest.raises(FerError, match=r"'train/angry/link\.jpg' is a symbolic link"):
        read_archive(path)


def test_folder_unknown_class(tmp_path):
    """read_folder refuses an unknown class folder, naming its path."""
    root = write_tree(tmp_path / "raw", tree() | {"train/contempt/x.jpg": jpeg()})
    with pytest.raises(FerError, match=r"contempt: unknown class folder"):
        read_folder(root)


def test_folder_unexpected_split(tmp_path):
    """read_folder refuses a third top-level folder (e.g. valid/)."""
    root = write_tree(tmp_path / "raw", tree() | {"valid/angry/x.jpg": jpeg()})
    with pytest.raises(FerError, match=r"valid: unexpected folder"):
        read_folder(root)


def test_folder_bad_image_names_file(tmp_path):
    """read_folder names the file that cannot be decoded."""
    root = write_tree(tmp_path / "raw", tree() | {"test/sad/bad.jpg": b"text"})
    with pytest.raises(FerError, match=r"bad\.jpg: cannot decode image"):
        read_folder(root)


# ---------------------------------------------------------------- csv

def test_read_csv(tmp_path):
    """read_csv maps emotion indices by name, Usage to split (usage kept), pixels exactly, ids by row."""
    ds = read_csv(write_csv(tmp_path / "fer2013.csv"))
    assert len(ds) == 9
    expected = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "sad", "neutral"]
    assert [CLASSES[i] for i in ds.labels] == expected
    assert ds.labels[4] == CLASSES.index("sad") == 5
    assert ds.labels[6] == CLASSES.index("neutral") == 4
    assert list(ds.split) == ["train"] * 7 + ["test", "test"]
    assert list(ds.usage) == ["Training"] * 7 + ["PublicTest", "PrivateTest"]
    assert list(ds.ids) == [f"fer2013.csv:row{i + 2}" for i in range(9)]
    for i in range(9):
        np.testing.assert_array_equal(ds.images[i], np.asarray(pixels(i), dtype=np.uint8).reshape(48, 48))
    assert ds.images[1, 0, 0] == 37 and ds.images[1, 0, 1] == 38 and ds.images[0, 47, 47] == (48 * 48 - 1) % 256


def test_csv_missing_column(tmp_path):
    """A CSV without the Usage column is refused, naming the file and the column."""
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels\n0,1 2 3\n")
    with pytest.raises(FerError, match=r"fer2013\.csv: missing column 'Usage'"):
        read_csv(path)


def test_csv_wrong_pixel_count(tmp_path):
    """A row with the wrong number of pixels is refused, naming the file line."""
    px = [" ".join(map(str, pixels(i))) for i in range(9)]
    px[2] = "1 2 3"
    with pytest.raises(FerError, match=r"fer2013\.csv: row 4: pixels has 3 values, expected 2304"):
        read_csv(write_csv(tmp_path / "fer2013.csv", pixel_rows=px))


def test_csv_non_integer_pixels(tmp_path):
    """A row whose pixels are not integers is refused, naming the row."""
    px = [" ".join(map(str, pixels(i))) for i in range(9)]
    px[0] = "x " * 2304
    with pytest.raises(FerError, match=r"row 2: pixels must be 2304 integers"):
        read_csv(write_csv(tmp_path / "fer2013.csv", pixel_rows=px))


def test_csv_pixel_out_of_range(tmp_path):
    """A pixel value of 300 is refused (no silent uint8 wrap-around), naming the row."""
    px = [" ".join(map(str, pixels(i))) for i in range(9)]
    px[3] = " ".join(["300"] + ["0"] * 2303)
    with pytest.raises(FerError, match=r"row 5: pixel values must be in 0-255, found 0\.\.300"):
        read_csv(write_csv(tmp_path / "fer2013.csv", pixel_rows=px))


def test_csv_unknown_emotion(tmp_path):
    """Emotion index 9 is refused, naming the row."""
    rows = list(CSV_ROWS)
    rows[8] = (9, "PrivateTest")
    with pytest.raises(FerError, match=r"row 10: unknown emotion index 9"):
        read_csv(write_csv(tmp_path / "fer2013.csv", rows))


def test_csv_unknown_usage(tmp_path):
    """An unknown Usage value is refused, naming the row and the allowed values."""
    rows = list(CSV_ROWS)
    rows[7] = (4, "Validation")
    with pytest.raises(FerError, match=r"row 9: unknown Usage 'Validation'; expected one of Training, PublicTest"):
        read_csv(write_csv(tmp_path / "fer2013.csv", rows))


def test_csv_missing_class(tmp_path):
    """A CSV whose training rows lack a class is refused like an archive."""
    rows = [(e, u) for e, u in CSV_ROWS if e != 1]
    with pytest.raises(FerError, match=r"class 'disgust' has no training images"):
        read_csv(write_csv(tmp_path / "fer2013.csv", rows))


def test_csv_empty(tmp_path):
    """A header-only CSV is refused (no rows)."""
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels,Usage\n")
    with pytest.raises(FerError, match=r"fer2013\.csv: no rows"):
        read_csv(path)


# ---------------------------------------------------------------- resolve_source / kaggle


def test_auto_empty_folder_falls_back_to_stand_in(tmp_path, capsys):
    """auto on a folder without FER2013 falls back to synthetic and warns on stderr."""
    assert resolve_source(data_params("auto", tmp_path)) == ("synthetic", None)
    err = capsys.readouterr().err
    assert "WARNING" in err and "SYNTHETIC" in err and "archive.zip" in err


def test_auto_finds_archive(tmp_path, capsys):
    """auto on a folder holding archive.zip picks the archive, without a warning."""
    (tmp_path / "archive.zip").write_bytes(b"")
    assert resolve_source(data_params("auto", tmp_path)) == ("archive", tmp_path / "archive.zip")
    assert capsys.readouterr().err == ""


def test_auto_finds_csv_in_folder(tmp_path):
    """auto on a folder holding fer2013.csv picks the CSV."""
    (tmp_path / "fer2013.csv").write_text("")
    assert resolve_source(data_params("auto", tmp_path)) == ("csv", tmp_path / "fer2013.csv")


def test_auto_csv_and_zip_files(tmp_path):
    """auto on a .csv file picks csv; on a .zip file, archive; on another file, an error."""
    csv = tmp_path / "faces.csv"
    csv.write_text("")
    assert resolve_source(data_params("auto", csv)) == ("csv", csv)
    z = tmp_path / "faces.zip"
    z.write_bytes(b"")
    assert resolve_source(data_params("auto", z)) == ("archive", z)
    other = tmp_path / "faces.tar"
    other.write_bytes(b"")
    with pytest.raises(FerError, match=r"neither a \.zip nor a \.csv"):
        resolve_source(data_params("auto", other))


def test_auto_finds_folder_tree(tmp_path):
    """auto on a folder with train/ and test/ picks folder."""
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    assert resolve_source(data_params("auto", tmp_path)) == ("folder", tmp_path)


def test_auto_missing_path(tmp_path):
    """auto on a path that does not exist is an error, not a silent synthetic run."""
    with pytest.raises(FerError, match=r"does not exist"):
        resolve_source(data_params("auto", tmp_path / "nope"))


@pytest.mark.parametrize("source", ["archive", "folder", "csv"])
def test_explicit_source_missing_path(tmp_path, source):
    """An explicit source whose path does not exist is a FerError naming the path."""
    with pytest.raises(FerError, match=r"nope does not exist"):
        resolve_source(data_params(source, tmp_path / "nope"))


def test_explicit_archive_in_folder(tmp_path):
    """source=archive on a folder looks for archive.zip inside; its absence is a FerError."""
    with pytest.raises(FerError, match=r"archive\.zip not found"):
        resolve_source(data_params("archive", tmp_path))
    (tmp_path / "archive.zip").write_bytes(b"")
    assert resolve_source(data_params("archive", tmp_path)) == ("archive", tmp_path / "archive.zip")


def test_explicit_folder_on_a_file(tmp_path):
    """source=folder pointing at a file is a FerError."""
    f = tmp_path / "archive.zip"
    f.write_bytes(b"")
    with pytest.raises(FerError, match=r"is not a folder"):
        resolve_source(data_params("folder", f))


def test_read_source_dispatches(tmp_path):
    """read_source reads a resolved archive, folder or csv with the matching reader."""
    z = write_zip(tmp_path / "archive.zip", tree())
    assert len(read_source("archive", z, data_params("auto", z))) == 9
    root = write_tree(tmp_path / "raw", tree())
    assert len(read_source("folder", root, data_params("auto", root))) == 9
    csv = write_csv(tmp_path / "fer2013.csv")
    assert list(read_source("csv", csv, data_params("auto", csv)).usage)[-1] == "PrivateTest"


def test_explicit_generated_and_kaggle_sources_need_no_path(tmp_path):
    """synthetic and kaggle resolve without a path, whatever data.path says."""
    assert resolve_source(data_params("synthetic", tmp_path / "nope")) == ("synthetic", None)
    assert resolve_source(data_params("kaggle", tmp_path / "nope")) == ("kaggle", None)


def test_kaggle_without_credentials(tmp_path, monkeypatch):
    """read_kaggle without any credentials is a FerError telling the user to fetch archive.zip by hand."""
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FerError, match=r"no Kaggle credentials.*archive\.zip"):
        read_kaggle()


# ---------------------------------------------------------------- data as users really hand it over


def read_noting(reader, path: Path, capsys) -> tuple[object, str]:
    """Read a source and return the data set and its note, checking the note is exactly one stderr line."""
    capsys.readouterr()
    ds = reader(path)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"note: {path}: "), lines
    return ds, lines[0]


@pytest.fixture
def clean_tree_dataset(tmp_path):
    """The data set read from the clean archive: what every re-packed tree must read as."""
    return read_archive(write_zip(tmp_path / "clean.zip", tree()))


@pytest.fixture
def clean_csv_dataset(tmp_path):
    """The data set read from the clean fer2013.csv: what every spreadsheet-saved copy must read as."""
    (tmp_path / "clean").mkdir()
    return read_csv(write_csv(tmp_path / "clean" / "fer2013.csv"))


def test_archive_compressed_by_finder(tmp_path, capsys, clean_tree_dataset):
    """Finder's Compress of a folder: its top folder, folder entries, .DS_Store and __MACOSX/ '._' twins are read through
    or skipped, giving the clean data set (ids without the top folder) and one note saying what was skipped."""
    members = with_folder_entries(wrapped(tree(), "archive") | finder_junk(tree(), "archive"))
    ds, note = read_noting(read_archive, write_zip_members(tmp_path / "archive.zip", members), capsys)
    assert_same_dataset(ds, clean_tree_dataset)
    junk = [n for n in members if n.startswith("__MACOSX/") or n.endswith(".DS_Store")]
    assert note == (f"note: {tmp_path / 'archive.zip'}: skipped {len(junk)} entries left by the operating system or a file manager "
                    "(__MACOSX/..., .DS_Store); read train/ and test/ from inside its single top folder 'archive/'")


def test_archive_of_train_and_test_compressed_by_finder(tmp_path, capsys, clean_tree_dataset):
    """Finder's Compress of train/ and test/ themselves has no top folder: only its junk is skipped, and the note says so."""
    members = with_folder_entries(tree() | finder_junk(tree()))
    ds, note = read_noting(read_archive, write_zip_members(tmp_path / "archive.zip", members), capsys)
    assert_same_dataset(ds, clean_tree_dataset)
    junk = [n for n in members if n.startswith("__MACOSX/") or n.endswith(".DS_Store")]
    assert note.endswith(f"skipped {len(junk)} entries left by the operating system or a file manager (.DS_Store, __MACOSX/...)")


def test_archive_sent_to_compressed_folder_by_explorer(tmp_path, capsys, clean_tree_dataset):
    """Windows Explorer's 'Send to > Compressed folder': forward slashes, folder entries, a top folder, Thumbs.db and
    desktop.ini (any case) read as the clean data set with one note."""
    members = with_folder_entries(wrapped(tree(), "fer2013") | explorer_junk("fer2013"))
    ds, note = read_noting(read_archive, write_zip_members(tmp_path / "archive.zip", members), capsys)
    assert_same_dataset(ds, clean_tree_dataset)
    assert note.endswith("skipped 2 entries left by the operating system or a file manager (Desktop.ini, Thumbs.db); "
                         "read train/ and test/ from inside its single top folder 'fer2013/'")


def test_folder_with_file_manager_leftovers(tmp_path, capsys, clean_tree_dataset):
    """An extracted tree with .DS_Store, '._' files, Thumbs.db, desktop.ini, a __MACOSX/ folder and a hidden folder
    reads as the clean data set; the note counts what was skipped (a junk folder once)."""
    root = write_tree(tmp_path / "raw", tree() | finder_junk(tree()) | explorer_junk())
    write_tree(root, {"train/sad/._im4.jpg": APPLEDOUBLE, "test/.Trash-1000/x.jpg": jpeg()})
    ds, note = read_noting(read_folder, root, capsys)
    assert_same_dataset(ds, clean_tree_dataset)
    assert note == (f"note: {root}: skipped 5 entries left by the operating system or a file manager "
                    "(__MACOSX/..., .Trash-1000/..., .DS_Store, Thumbs.db, ...)")


def test_folder_in_one_wrapper_folder(tmp_path, capsys, clean_tree_dataset):
    """A tree unzipped into its own folder (raw/fer2013/train, raw/__MACOSX) is read through that folder, and auto finds it."""
    root = write_tree(tmp_path / "raw", wrapped(tree(), "fer2013") | finder_junk(tree(), "fer2013"))
    ds, note = read_noting(read_folder, root, capsys)
    assert_same_dataset(ds, clean_tree_dataset)
    assert note.endswith("(__MACOSX/..., .DS_Store); read train/ and test/ from inside its single top folder 'fer2013/'")
    assert resolve_source(data_params("auto", root)) == ("folder", root)


def test_csv_saved_as_csv_utf8_by_excel(tmp_path, capsys, clean_csv_dataset):
    """Excel's 'CSV UTF-8': a byte-order mark, CRLF line ends and quoted fields read as the clean file; the note names the BOM."""
    path = write_spreadsheet_csv(tmp_path / "fer2013.csv", bom=True, crlf=True, quote=True)
    ds, note = read_noting(read_csv, path, capsys)
    assert_same_dataset(ds, clean_csv_dataset)
    assert note == f"note: {path}: skipped a byte-order mark"


def test_csv_with_trailing_empty_column_and_rows(tmp_path, capsys, clean_csv_dataset):
    """A trailing empty column (a delimiter at each line's end) and empty rows at the end (',,') are skipped with a note."""
    path = write_spreadsheet_csv(tmp_path / "fer2013.csv", columns=("emotion", "pixels", "Usage", ""), empty_rows=2)
    ds, note = read_noting(read_csv, path, capsys)
    assert_same_dataset(ds, clean_csv_dataset)
    assert note == f"note: {path}: skipped 2 empty rows, extra columns (unnamed)"


def test_csv_semicolon_delimited(tmp_path, capsys, clean_csv_dataset):
    """European-locale Excel separates fields with ';': the header decides the delimiter, and the note says which."""
    path = write_spreadsheet_csv(tmp_path / "fer2013.csv", delimiter=";", crlf=True)
    ds, note = read_noting(read_csv, path, capsys)
    assert_same_dataset(ds, clean_csv_dataset)
    assert note == f"note: {path}: fields separated by ';'"


def test_csv_other_column_order_and_extra_columns(tmp_path, capsys, clean_csv_dataset):
    """Columns are found by name in any order (the ICML file's emotion,Usage,pixels); extra ones are skipped with a note."""
    path = write_spreadsheet_csv(tmp_path / "fer2013.csv", columns=("id", "emotion", "Usage", "pixels"))
    ds, note = read_noting(read_csv, path, capsys)
    assert_same_dataset(ds, clean_csv_dataset)
    assert note == f"note: {path}: skipped extra columns 'id'"


def test_csv_reordered_columns_alone_need_no_note(tmp_path, capsys, clean_csv_dataset):
    """Reordering columns loses nothing, so nothing is noted."""
    ds = read_csv(write_spreadsheet_csv(tmp_path / "fer2013.csv", columns=("emotion", "Usage", "pixels")))
    assert_same_dataset(ds, clean_csv_dataset)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- what is still refused


def test_archive_top_folder_does_not_hide_stray_entries(tmp_path):
    """Inside a top folder the layout rules still hold: a nested folder is refused, named as stored in the archive."""
    members = wrapped(tree() | {"train/happy/extra/x.jpg": jpeg()}, "archive")
    with pytest.raises(FerError, match=r"unexpected member 'archive/train/happy/extra/x\.jpg'; expected archive/train/"):
        read_archive(write_zip_members(tmp_path / "archive.zip", members))


def test_archive_two_top_folders_are_not_unwrapped(tmp_path):
    """Two top folders are ambiguous: neither is read through, and the layout error names a member."""
    members = wrapped(tree(), "a") | wrapped(tree(), "b")
    with pytest.raises(FerError, match=r"unexpected member 'a/test/happy/t0\.jpg'"):
        read_archive(write_zip_members(tmp_path / "archive.zip", members))


def test_archive_junk_is_still_checked_for_safety(tmp_path):
    """A junk-looking member with '..' or a link is refused, not skipped: safety checks run before anything is skipped."""
    with pytest.raises(FerError, match=r"unsafe member path '__MACOSX/\.\./evil'"):
        read_archive(write_zip_members(tmp_path / "a.zip", tree() | {"__MACOSX/../evil": b""}))
    info = zipfile.ZipInfo("train/angry/.DS_Store")
    info.external_attr = 0o120777 << 16
    with pytest.raises(FerError, match=r"'train/angry/\.DS_Store' is a symbolic link"):
        read_archive(write_zip(tmp_path / "b.zip", tree(), [(info, b"/etc/passwd")]))


def test_folder_stray_file_is_refused_as_a_folder(tmp_path):
    """A real stray file in a folder source is refused; the message says 'folder', never 'archive'."""
    root = write_tree(tmp_path / "raw", tree() | {"train/sad/readme.txt": b"notes"})
    with pytest.raises(FerError, match=r"file 'train/sad/readme\.txt' is not a \.jpg image; remove it from the folder$"):
        read_folder(root)


def test_folder_nested_folder_is_refused(tmp_path):
    """A folder inside a class folder is refused, naming it, as the archive refuses such a member."""
    root = write_tree(tmp_path / "raw", tree() | {"train/happy/extra/x.jpg": jpeg()})
    with pytest.raises(FerError, match=r"unexpected folder 'train/happy/extra'; expected train/<class>/<file>\.jpg"):
        read_folder(root)


def test_folder_without_images_says_folder(tmp_path):
    """An empty folder source is refused in folder terms."""
    (tmp_path / "raw").mkdir()
    with pytest.raises(FerError, match=r"raw: no images found; .* in this folder$"):
        read_folder(tmp_path / "raw")


def test_folder_symlink_is_refused(tmp_path):
    """Links are never followed in a folder source: a linked image is refused, naming it."""
    root = write_tree(tmp_path / "raw", tree())
    (tmp_path / "outside.jpg").write_bytes(jpeg())
    (root / "train" / "happy" / "link.jpg").symlink_to(tmp_path / "outside.jpg")
    with pytest.raises(FerError, match=r"link\.jpg: is a symbolic link"):
        read_folder(root)


def test_csv_duplicate_column_is_refused(tmp_path):
    """Two columns of one name are ambiguous: refused, naming the column."""
    path = write_spreadsheet_csv(tmp_path / "fer2013.csv", columns=("emotion", "pixels", "Usage", "pixels"))
    with pytest.raises(FerError, match=r"fer2013\.csv: column 'pixels' appears 2 times in the header; keep one"):
        read_csv(path)


def test_csv_header_decides_the_delimiter(tmp_path):
    """A header that names no column under any delimiter is refused, naming what is missing."""
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion;pixels\n0;1 2 3\n")
    with pytest.raises(FerError, match=r"missing column 'Usage'"):
        read_csv(path)
