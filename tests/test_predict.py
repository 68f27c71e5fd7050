"""fer_pipeline.serving.predict: direct crops, face finding in photos, normalization as in training, output and errors."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fer_pipeline import CLASSES, paths
from fer_pipeline.data.preprocess import normalization_stats, scale
from fer_pipeline.data.synthetic import generate
from fer_pipeline.io import write_json
from fer_pipeline.params import load_params, to_dict
from fer_pipeline.serving.predict import annotation_path, classify_crops, crop_faces, find_faces, load_cascade, main, to_input
from fer_pipeline.training.checkpoint import load_model, save_checkpoint
from fer_pipeline.training.models import build_model

from .builders import small_model

ROOT = Path(__file__).resolve().parents[1]


UNIT = {"normalize": "unit", "mean": 0.0, "std": 1.0}


def make_checkpoint(path: Path, normalization: dict | None = None, family: str = "mlp") -> Path:
    """A tiny untrained model saved as the train stage saves one: model and train params, and the normalization
    record preprocess wrote (default `unit`) as args.preprocess."""
    params = load_params(ROOT / "params.yaml")
    mp = small_model(family, hidden=(16,), channels=(4,))
    torch.manual_seed(0)
    model = build_model(mp)
    save_checkpoint(path, model.state_dict(), None, None, 1, {"variant": "test", "model": to_dict(mp),
                                                              "train": to_dict(params.train), "preprocess": normalization or UNIT})
    return path


def crops(n: int = 3) -> np.ndarray:
    """n synthetic 48x48 uint8 faces."""
    return generate(n, 1, seed=0, duplicate_fraction=0.0).images[:n]


def write_crops(folder: Path, images: np.ndarray) -> list[Path]:
    """Save each image as folder/face<i>.png (8-bit grayscale)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"face{i}.png" for i in range(len(images))]
    for f, img in zip(files, images, strict=True):
        Image.fromarray(img).save(f)  # 2-D uint8 -> 8-bit grayscale (L)
    return files


def run_json(argv: list[str], capsys) -> tuple[int, list[dict], str]:
    """Run main with --json; (exit status, parsed stdout, stderr)."""
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def model_probs(ckpt: Path, x: torch.Tensor) -> np.ndarray:
    """Softmax of the checkpoint's model on an already normalized tensor."""
    model, _ = load_model(ckpt)
    with torch.no_grad():
        return model(x).softmax(1).numpy()


def test_crops_classified_directly(tmp_path, capsys):
    """48x48 crops are classified without face search; probabilities sum to 1 and equal the model's on x/255."""
    ckpt = make_checkpoint(tmp_path / "model.pt")
    images = crops()
    files = write_crops(tmp_path / "in", images)
    code, out, err = run_json([*map(str, files), "--model", str(ckpt)], capsys)
    assert code == 0, err
    assert [r["file"] for r in out] == [str(f) for f in files]
    want = model_probs(ckpt, torch.from_numpy(images.astype(np.float32) / 255).reshape(-1, 1, 48, 48))
    for rec, row in zip(out, want, strict=True):
        assert rec["face"] is None
        got = np.array([rec["probabilities"][c] for c in CLASSES])
        assert abs(got.sum() - 1) < 1e-5
        np.testing.assert_allclose(got, row, atol=1e-6)
        assert rec["label"] == CLASSES[int(row.argmax())]


def test_json_shape(tmp_path, capsys):
    """--json prints a list of {file, face, label, probabilities} with every class, in class order."""
    ckpt = make_checkpoint(tmp_path / "model.pt")
    write_crops(tmp_path / "in", crops(2))
    code, out, _ = run_json([str(tmp_path / "in"), "--model", str(ckpt)], capsys)
    assert code == 0
    assert len(out) == 2
    for rec in out:
        assert list(rec) == ["file", "face", "label", "probabilities"]
        assert list(rec["probabilities"]) == list(CLASSES)
        assert rec["label"] in CLASSES


def test_table_output(tmp_path, capsys):
    """The default output is a table with a header naming every class and one row per face."""
    ckpt = make_checkpoint(tmp_path / "model.pt")
    write_crops(tmp_path / "in", crops(2))
    assert main([str(tmp_path / "in"), "--model", str(ckpt)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["file", "face", "label", *CLASSES]
    assert len(lines) == 3 and all(" crop " in line for line in lines[1:])


def test_standardize_uses_the_checkpoints_statistics(tmp_path, capsys, monkeypatch):
    """A standardize-trained model gets (x/255 - mean)/std with the mean and std its checkpoint holds (as preprocess
    made them), from any folder: a normalization.json lying in the working folder (here one made for other data)
    is never read."""
    images = crops(2)
    stats = normalization_stats(images, np.ones(len(images), bool), "standardize")
    x = scale(images, {"normalize": "standardize", **stats})
    ckpt = make_checkpoint(tmp_path / "model.pt", {"normalize": "standardize", **stats})
    assert torch.equal(to_input(images, stats["mean"], stats["std"]), torch.from_numpy(x).reshape(-1, 1, 48, 48))
    files = write_crops(tmp_path / "in", images)
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "data/preprocess/normalization.json", {"normalize": "standardize", "mean": 0.9, "std": 0.01})
    code, out, _ = run_json([*map(str, files), "--model", str(ckpt)], capsys)
    assert code == 0
    want = model_probs(ckpt, torch.from_numpy(x).reshape(-1, 1, 48, 48))
    np.testing.assert_allclose([[r["probabilities"][c] for c in CLASSES] for r in out], want, atol=1e-6)


@pytest.mark.parametrize("normalization", [{"normalize": "standardize"}, {"normalize": "standardize", "mean": 0.5, "std": 0.0},
                                           {"normalize": "scaled", "mean": 0.0, "std": 1.0}])
def test_checkpoint_without_usable_normalization(tmp_path, capsys, normalization):
    """A checkpoint whose args lack the mean and std, hold a std of 0 or an unknown mode is a usage error (exit 2):
    one line naming the checkpoint."""
    ckpt = make_checkpoint(tmp_path / "model.pt", normalization)
    files = write_crops(tmp_path / "in", crops(1))
    assert main([str(files[0]), "--model", str(ckpt)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {ckpt} (args): " if normalization["normalize"] == "scaled" else f"error: {ckpt}: ")
    assert len(err.splitlines()) == 1


def test_bad_file_skipped(tmp_path, capsys):
    """A text file named .jpg gets a one-line message naming it; the other files are still classified (exit 0)."""
    ckpt = make_checkpoint(tmp_path / "model.pt")
    files = write_crops(tmp_path / "in", crops(2))
    bad = tmp_path / "in" / "notes.jpg"
    bad.write_text("not an image\n")
    code, out, err = run_json([str(files[0]), str(bad), str(files[1]), "--model", str(ckpt)], capsys)
    assert code == 0
    assert [r["file"] for r in out] == [str(files[0]), str(files[1])]
    assert err.splitlines() == [err.strip()] and err.startswith(f"{bad}: cannot read as an image")


def test_nothing_classified_exit_1(tmp_path, capsys):
    """Files given but none classifiable (a bad file and a missing one) -> exit 1, a message for each."""
    ckpt = make_checkpoint(tmp_path / "model.pt")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\x00" * 10)
    assert main([str(bad), str(tmp_path / "gone.png"), "--model", str(ckpt)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{tmp_path / 'gone.png'}: no such file or folder"
    assert err[1].startswith(f"{bad}: cannot read as an image")


def test_missing_model_exit_2(tmp_path, capsys):
    """A --model that does not exist is exit 2 with one line naming it and saying what to do."""
    files = write_crops(tmp_path / "in", crops(1))
    assert main([str(files[0]), "--model", str(tmp_path / "none.pt")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()]
    assert err.startswith(f"error: {tmp_path / 'none.pt'}: no such checkpoint") and "--model" in err


def test_default_model_missing_exit_2(tmp_path, capsys, monkeypatch):
    """Without --model and without a release, the error says to run `dvc repro release` or pass --model (exit 2)."""
    monkeypatch.chdir(tmp_path)
    files = write_crops(tmp_path / "in", crops(1))
    assert main([str(files[0])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data/release/model.json: not found") and "dvc repro release" in err and "--model" in err


def test_default_model_is_the_release_and_says_why(tmp_path, capsys, monkeypatch):
    """Without --model, fer-predict uses the release stage's model with its test-time augmentation, and says on
    stderr which model it used and why; --tta overrides the augmentation; a broken release file is exit 2."""
    monkeypatch.chdir(tmp_path)
    ckpt = make_checkpoint(tmp_path / paths.model_file("cnn"))
    release = tmp_path / paths.RELEASE
    release.parent.mkdir(parents=True)
    release.write_text(json.dumps({"model": "data/train/cnn/model.pt", "tta": "flip", "why": "best validation macro recall"}))
    files = write_crops(tmp_path / "in", crops(2))
    code, rows, err = run_json([str(f) for f in files], capsys)
    assert code == 0 and len(rows) == 2
    assert err.startswith("model: data/train/cnn/model.pt (the released model: best validation macro recall;")
    assert err.rstrip().endswith("tta flip")
    model, _ = load_model(ckpt)
    want = classify_crops(model, crops(2), 0.0, 1.0, "flip")
    assert [r["probabilities"]["happy"] for r in rows] == pytest.approx(want[:, CLASSES.index("happy")], abs=1e-3)
    assert run_json([str(files[0]), "--tta", "none"], capsys)[2].rstrip().endswith("tta none")
    release.write_text("{}")
    assert main([str(files[0])]) == 2
    assert "not the release stage's output" in capsys.readouterr().err


def test_photo_without_face(tmp_path, capsys):
    """A flat gray 300x300 photo reports 'no face found' for that file, and exit 1 when it is the only input."""
    ckpt = make_checkpoint(tmp_path / "model.pt")
    photo = tmp_path / "wall.png"
    Image.new("L", (300, 300), 128).save(photo)
    assert main([str(photo), "--model", str(ckpt)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{photo}: no face found")


def test_crop_faces_resizes_each_box():
    """crop_faces cuts each box and resizes it to 48x48 uint8, one crop per box."""
    gray = np.arange(200 * 300, dtype=np.uint32).reshape(200, 300).astype(np.uint8)
    out = crop_faces(gray, [(10, 20, 96, 96), (100, 50, 48, 48)])
    assert out.shape == (2, 48, 48) and out.dtype == np.uint8
    assert np.array_equal(out[1], gray[50:98, 100:148])  # a 48x48 box passes unchanged
    assert crop_faces(gray, []).shape == (0, 48, 48)


def pasted_photo(archive: Path) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A 400x300 gray photo holding the first train/happy FER2013 face, upscaled to 160x160; (photo, pasted box)."""
    with zipfile.ZipFile(archive) as z:
        name = min(n for n in z.namelist() if n.startswith("train/happy/") and n.endswith(".jpg"))
        face = Image.open(io.BytesIO(z.read(name))).convert("L")
    photo = Image.new("L", (400, 300), 128)
    photo.paste(face.resize((160, 160), Image.Resampling.BICUBIC), (120, 70))
    return photo, (120, 70, 160, 160)


@pytest.mark.realdata
def test_face_found_in_photo(tmp_path, capsys, real_archive):
    """A real FER2013 face pasted into a larger photo is found as exactly one box on it, and the annotated PNG is written."""
    photo, (px, py, pw, ph) = pasted_photo(real_archive)
    boxes = find_faces(np.asarray(photo), load_cascade())
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    overlap = max(0, min(x + w, px + pw) - max(x, px)) * max(0, min(y + h, py + ph) - max(y, py))
    assert overlap >= 0.8 * w * h  # the box lies (almost) inside the pasted face
    path = tmp_path / "photo.jpg"
    photo.convert("RGB").save(path, quality=95)
    ckpt = make_checkpoint(tmp_path / "model.pt", family="cnn")
    code, out, _ = run_json([str(path), "--model", str(ckpt), "--annotate", str(tmp_path / "ann")], capsys)
    assert code == 0
    assert len(out) == 1 and out[0]["face"] is not None
    with Image.open(tmp_path / "ann" / "photo.png") as ann:
        assert ann.format == "PNG" and ann.size == (400, 300)


def test_annotation_never_overwrites_an_input(tmp_path):
    """Annotated copies get <name>.png, numbered -2, -3 when that name is an input image or an earlier output."""
    folder = tmp_path / "out"
    folder.mkdir()
    inputs = [folder / "a.png", tmp_path / "a.jpg", tmp_path / "b.jpg"]
    taken = {p.resolve() for p in inputs}
    assert annotation_path(folder, inputs[1], taken) == folder / "a-2.png"
    assert annotation_path(folder, tmp_path / "x" / "a.jpg", taken) == folder / "a-3.png"
    assert annotation_path(folder, inputs[2], taken) == folder / "b.png"
