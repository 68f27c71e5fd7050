"""fer-predict: classify the expression of faces in image files with a trained checkpoint.

A 48x48 image is taken as a face crop, as in FER2013, and classified directly; a larger photo is
searched for frontal faces with OpenCV's bundled Haar cascade, and each face is cropped, turned to
grayscale, resized to 48x48 and classified. Inputs are normalized exactly as the training data were (the
checkpoint holds the normalization).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps
from torch import nn

from fer_pipeline import CLASSES, IMAGE_SIZE, FerError, paths
from fer_pipeline.cli import report_error
from fer_pipeline.data.preprocess import scale
from fer_pipeline.io import atomic_path, read_json
from fer_pipeline.params import TTAS
from fer_pipeline.training.checkpoint import input_normalization, load_model
from fer_pipeline.training.train import predict

Box = tuple[int, int, int, int]  # x, y, width, height in pixels of the original image

CASCADE = "haarcascade_frontalface_default.xml"
# Files a folder contributes; a file named on the command line is tried whatever its suffix.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})
# Faces under this size would be upscaled more than 1.5x into the 48x48 input, too blurry to
# read an expression; it also keeps the cascade's small-window false positives out.
MIN_FACE = 32


@dataclass(frozen=True)
class Prediction:
    """One classified face: its file, its box (None for a direct 48x48 crop) and class probabilities."""

    file: str
    face: Box | None
    probabilities: dict[str, float]

    @property
    def label(self) -> str:
        """The most probable class."""
        return max(self.probabilities, key=self.probabilities.__getitem__)

    def as_json(self) -> dict[str, Any]:
        """The JSON record: file, face [x, y, w, h] or null, label, probabilities."""
        return {"file": self.file, "face": list(self.face) if self.face is not None else None,
                "label": self.label, "probabilities": self.probabilities}


@dataclass(frozen=True)
class FileResult:
    """What one input image gave: its RGB pixels (for annotation) and one prediction per face."""

    path: Path
    rgb: np.ndarray
    predictions: list[Prediction]

    @property
    def is_crop(self) -> bool:
        """True for a 48x48 face crop classified directly (nothing to annotate)."""
        return all(p.face is None for p in self.predictions)


def released_model(release_file: Path = paths.RELEASE) -> dict[str, Any]:
    """The release stage's choice (data/release/model.json): checkpoint, test-time augmentation and why it was
    chosen (the best validation macro recall among the recipe and study runs; test is never used to choose)."""
    hint = "run `dvc repro release` (it trains what it needs), or pass --model PATH"
    if not release_file.is_file():
        raise FerError(f"{release_file}: not found, so there is no released model to default to; {hint}")
    try:
        record = read_json(release_file)
        model, tta, why = Path(record["model"]), record["tta"], str(record["why"])
    except (KeyError, TypeError, json.JSONDecodeError):
        raise FerError(f"{release_file}: not the release stage's output (model, tta, why); {hint}") from None
    if tta not in TTAS:
        raise FerError(f"{release_file}: tta {tta!r} is not one of {', '.join(TTAS)}; {hint}")
    if not model.is_file():
        raise FerError(f"{model}: not found (the released model, in {release_file}); {hint}")
    return {"model": model, "tta": tta, "why": why}


def normalization(ckpt: dict[str, Any], model_path: Path) -> tuple[float, float]:
    """(mean, std) the model's training inputs were standardized with, from its checkpoint: (0, 1) for `unit`."""
    norm = input_normalization(ckpt, model_path)
    return (0.0, 1.0) if norm["normalize"] == "unit" else (norm["mean"], norm["std"])


def to_input(crops: np.ndarray, mean: float, std: float) -> torch.Tensor:
    """uint8 (N,48,48) crops -> float (N,1,48,48), scaled by preprocess.scale as training inputs were (with mean 0
    and std 1, `unit` scaling gives the same floats)."""
    x = scale(crops, {"normalize": "standardize", "mean": mean, "std": std})
    return torch.from_numpy(np.ascontiguousarray(x)).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)


def load_cascade(name: str = CASCADE) -> Any:
    """OpenCV's bundled frontal-face Haar cascade, with a clear error where this OpenCV lacks it."""
    # OpenCV 5 wheels dropped CascadeClassifier and the cascade files; 4.x ships both.
    path = Path(cv2.data.haarcascades) / name
    if not hasattr(cv2, "CascadeClassifier") or not path.is_file():
        raise FerError(f"{path}: OpenCV {cv2.__version__} ships no Haar cascade; install the pinned "
                       "opencv-python-headless 4.x (pip install -e .)")
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise FerError(f"{path}: OpenCV could not load this cascade; reinstall opencv-python-headless")
    return cascade


def read_image(path: Path) -> np.ndarray:
    """Decode an image file to upright RGB uint8 (H,W,3); FerError naming the file if it is not an image."""
    try:
        with Image.open(path) as img:
            # Phone photos store rotation in EXIF; undo it so faces are upright for the cascade.
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    # Pillow reports bad files with many exception types (OSError, SyntaxError, ValueError, DecompressionBombError...).
    except Exception as e:
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise FerError(f"{path}: cannot read as an image ({reason}); replace or remove the file") from None


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 -> grayscale uint8 (ITU-R 601 luma; gray input comes back unchanged)."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def find_faces(gray: np.ndarray, cascade: Any) -> list[Box]:
    """Frontal-face boxes in a grayscale image, left to right then top to bottom."""
    found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(MIN_FACE, MIN_FACE))
    return sorted((int(x), int(y), int(w), int(h)) for x, y, w, h in found)


def crop_faces(gray: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """Cut each box out of a grayscale image and resize it to 48x48 (INTER_AREA); uint8 (N,48,48)."""
    crops = [cv2.resize(gray[y:y + h, x:x + w], (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
             for x, y, w, h in boxes]
    return np.stack(crops) if crops else np.empty((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)


def classify_crops(model: nn.Module, crops: np.ndarray, mean: float, std: float, tta: str = "none") -> np.ndarray:
    """Class probabilities (N,7) of uint8 48x48 crops, on the CPU."""
    _, probs = predict(model, to_input(crops, mean, std), torch.device("cpu"), tta)
    return probs.numpy()


def faces_of(rgb: np.ndarray, path: Path, cascade: Any) -> tuple[list[Box | None], np.ndarray]:
    """(boxes, 48x48 crops) of one image: the image itself if it is a 48x48 crop, else each face found."""
    h, w = rgb.shape[:2]
    gray = to_gray(rgb)
    if (h, w) == (IMAGE_SIZE, IMAGE_SIZE):
        return [None], gray[None]
    if h < IMAGE_SIZE or w < IMAGE_SIZE:
        raise FerError(f"{path}: image is {w}x{h}, too small; give a 48x48 face crop or a larger photo")
    boxes = find_faces(gray, cascade)
    if not boxes:
        raise FerError(f"{path}: no face found (frontal faces of at least {MIN_FACE}x{MIN_FACE} pixels are searched); "
                       "give a photo with a frontal face or a 48x48 face crop")
    return list(boxes), crop_faces(gray, boxes)


def predict_file(path: Path, model: nn.Module, norm: tuple[float, float], cascade: Any, tta: str = "none") -> FileResult:
    """Read one image, find its faces (or take it as a crop) and classify each."""
    rgb = read_image(path)
    boxes, crops = faces_of(rgb, path, cascade)
    probs = classify_crops(model, crops, *norm, tta)
    preds = [Prediction(str(path), box, {c: float(p) for c, p in zip(CLASSES, row, strict=True)})
             for box, row in zip(boxes, probs, strict=True)]
    return FileResult(path, rgb, preds)


def expand_inputs(inputs: Sequence[Path], on_error: Callable[[str], None]) -> list[Path]:
    """Files as given, folders as their image files (by suffix, sorted, not recursive); missing paths reported."""
    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                on_error(f"{p}: folder holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            on_error(f"{p}: no such file or folder")
    return files


def predict_files(
    files: Sequence[Path], model: nn.Module, norm: tuple[float, float], cascade: Any, on_error: Callable[[str], None],
    tta: str = "none",
) -> Iterator[FileResult]:
    """Results file by file; a file that cannot be classified is reported through on_error and skipped."""
    for path in files:
        try:
            yield predict_file(path, model, norm, cascade, tta)
        except FerError as e:
            on_error(str(e))


def annotate(rgb: np.ndarray, predictions: Sequence[Prediction]) -> np.ndarray:
    """A copy of the image with each face's box and `label probability` drawn above it."""
    out = rgb.copy()
    green, black = (0, 200, 0), (0, 0, 0)
    for p in predictions:
        if p.face is None:
            continue
        x, y, w, h = p.face
        thick = max(1, w // 60)
        scale = max(0.4, w / 220)
        text = f"{p.label} {p.probabilities[p.label]:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        # Label above the box, or inside its top edge when the face touches the image's top.
        ty = y - base - 2 if y - th - base - 2 >= 0 else y + th + 2
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), green, thick + 1)
        cv2.rectangle(out, (x, ty - th - 1), (x + tw + 2, ty + base), black, cv2.FILLED)
        cv2.putText(out, text, (x + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, green, thick, cv2.LINE_AA)
    return out


def annotation_path(folder: Path, source: Path, taken: set[Path]) -> Path:
    """folder/<name>.png, numbered -2, -3... when the name is in `taken` (resolved paths: inputs and earlier outputs)."""
    stem, n = source.stem, 1
    target = folder / f"{stem}.png"
    while target.resolve() in taken:
        n += 1
        target = folder / f"{stem}-{n}.png"
    taken.add(target.resolve())
    return target


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Save an RGB array as PNG, atomically."""
    with atomic_path(path) as tmp:
        Image.fromarray(rgb).save(tmp, format="PNG")


def write_annotation(folder: Path, result: FileResult, taken: set[Path], on_error: Callable[[str], None]) -> None:
    """Write a photo's annotated copy into folder (never over an input image); report a failed write."""
    target = annotation_path(folder, result.path, taken)
    try:
        write_png(target, annotate(result.rgb, result.predictions))
    except OSError as e:
        on_error(f"{target}: cannot write the annotated image ({e.strerror or e}); check the folder")


def make_folder(folder: Path) -> None:
    """Create the annotation folder up front, so a bad --annotate stops the run before any work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FerError(f"{folder}: cannot create the --annotate folder ({e.strerror or e}); choose a writable folder") from None


def format_table(predictions: Sequence[Prediction]) -> str:
    """Human-readable table: file, face box (or `crop`), label and every class's probability."""
    header = ["file", "face", "label", *CLASSES]
    rows = [[p.file, "crop" if p.face is None else "{},{},{},{}".format(*p.face), p.label,
             *(f"{p.probabilities[c]:.3f}" for c in CLASSES)] for p in predictions]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(wd) for cell, wd in zip(r, widths, strict=True)).rstrip() for r in [header, *rows])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line arguments of fer-predict."""
    p = argparse.ArgumentParser(prog="fer-predict", description="Classify the facial expression of each face in image files.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IMAGE_OR_FOLDER",
                   help="image files (48x48 face crops or photos) and folders of them")
    p.add_argument("--model", type=Path, help=f"checkpoint (default: the released model named in {paths.RELEASE})")
    p.add_argument("--tta", choices=TTAS,
                   help="test-time augmentation (default: the release's, as its test figures were made; none with --model)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.add_argument("--annotate", type=Path, metavar="DIR", help="write each photo with face boxes and labels to DIR as PNG")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Classify the given images; 0 if any was classified, 1 if none could be, 2 for usage errors."""
    args = parse_args(argv)

    def report(message: str) -> None:
        print(" ".join(message.split()), file=sys.stderr)

    try:
        if args.model is None:
            release = released_model()
            model_path, tta = release["model"], args.tta or release["tta"]
            report(f"model: {model_path} (the released model: {release['why']}; {paths.RELEASE}), tta {tta}")
        else:
            model_path, tta = args.model, args.tta or "none"
        if not model_path.is_file():
            raise FerError(f"{model_path}: no such checkpoint; pass --model PATH of a trained model.pt (`dvc repro` trains them)")
        model, ckpt = load_model(model_path)
        norm = normalization(ckpt, model_path)
        cascade = load_cascade()
        if args.annotate is not None:
            make_folder(args.annotate)
    except FerError as e:
        return report_error(str(e))
    files = expand_inputs(args.inputs, report)
    taken = {f.resolve() for f in files}  # annotations never overwrite an input image
    predictions: list[Prediction] = []
    for result in predict_files(files, model, norm, cascade, report, tta):
        predictions += result.predictions
        if args.annotate is not None and not result.is_crop:
            write_annotation(args.annotate, result, taken, report)
    if args.json:
        print(json.dumps([p.as_json() for p in predictions], indent=2))
    elif predictions:
        print(format_table(predictions))
    return 0 if predictions else 1


if __name__ == "__main__":
    sys.exit(main())
