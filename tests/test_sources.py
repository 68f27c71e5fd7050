"""fer_pipeline.sources: archive, folder and CSV readers, their refusals, and source resolution."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from fer_pipeline import CLASSES, FerError
from fer_pipeline.params import DataParams, SyntheticParams
from fer_pipeline.sources import read_archive, read_csv, read_folder, read_kaggle, read_source, resolve_source

from .builders import CSV_ROWS, TEST_FILES, TRAIN_LEVEL, jpeg, pixels, tree, write_csv, write_tree, write_zip


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
