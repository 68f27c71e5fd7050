"""`dvc plots show` as a page that works offline: vega, vega-lite and vega-embed from .cache/vega/, not a CDN.

DVC's own page loads the three libraries from cdn.jsdelivr.net, so without internet it shows no chart at
all. This module fetches the same versions once from the npm registry (`npm pack`, only the three package
tarballs: each holds a self-contained minified browser build), checks them against pinned sha512
integrities, keeps only the build files in .cache/vega/ (ignored by git through its own .gitignore), and
runs `dvc plots show --html-template tools/plots_template.html`, whose script tags point at
../.cache/vega/ from dvc_plots/index.html.

    python -m tools.plots_html      # from the repository root; prints the page's file:// URL
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fer_pipeline import FerError


@dataclass(frozen=True)
class JsLibrary:
    """One npm package whose minified browser build the page loads."""

    name: str
    version: str
    build: str  # path of the browser build inside the package
    integrity: str  # the registry's sha512 of the package tarball

    @property
    def file(self) -> str:
        """File name in .cache/vega/ (the template's script tags name these)."""
        return Path(self.build).name


# The versions dvc-render's own page loads from the CDN (dvc_render.vega.VegaRenderer.SCRIPTS), so the
# offline page draws exactly what `dvc plots show` would online; tests/test_plots_browser.py checks this.
LIBRARIES = (
    JsLibrary("vega", "5.20.2", "build/vega.min.js",
              "sha512-qmH7aD9GGPpssVdxL1xgcdxTbQzyRUeRR16Os385ymvQhiwCYQNA6+eXUPAZDTVLfk0RXu6Jzj6kUE5jQ80EVw=="),
    JsLibrary("vega-lite", "5.2.0", "build/vega-lite.min.js",
              "sha512-Yxcg8MvYfxHcG6BbkaKT0oVCIMIcE19UvqIsEwBmyd/7h2nzW7oRnID81T8UrY7hpDrIr6wa2JADOT2dhGNErw=="),
    JsLibrary("vega-embed", "6.18.2", "build/vega-embed.min.js",
              "sha512-wcDyQPE4J5aiCDc3/suH5RQDvrKkjuLkhzUcbOLwEkNF8/+pp17tS0JghzEvAPNRg+5aG1/N2ydixq8Lk3dOlg=="),
)

VEGA_DIR = Path(".cache/vega")  # relative to the repository root
STAMP = "versions.json"  # what is in VEGA_DIR: version, tarball integrity and sha256 of each file
TEMPLATE = Path(__file__).with_name("plots_template.html")
OUT_DIR = Path("dvc_plots")  # DVC's default; the template's script paths are relative to it


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamp(lib: JsLibrary, sha256: str) -> dict[str, str]:
    return {"version": lib.version, "integrity": lib.integrity, "file": lib.file, "sha256": sha256}


def vega_ready(root: Path = Path(".")) -> bool:
    """True when root/.cache/vega holds exactly the pinned builds, unchanged since they were unpacked."""
    folder = root / VEGA_DIR
    try:
        stamp = json.loads((folder / STAMP).read_text())
        return all(stamp.get(lib.name) == _stamp(lib, _sha256(folder / lib.file)) for lib in LIBRARIES)
    except (OSError, ValueError):
        return False


def _npm_pack(dest: Path) -> dict[str, Path]:
    """Download the pinned package tarballs into dest with `npm pack`; name -> tarball."""
    npm = shutil.which("npm")
    if npm is None:
        raise FerError(f"npm not found on PATH; it fetches {', '.join(f'{lib.name}@{lib.version}' for lib in LIBRARIES)} "
                       f"into {VEGA_DIR}/ for the offline plots page: install Node.js with npm "
                       "(Debian: apt-get install -y npm) and rerun")
    specs = [f"{lib.name}@{lib.version}" for lib in LIBRARIES]
    cmd = [npm, "pack", "--json", "--silent", "--prefer-offline", "--ignore-scripts", "--pack-destination", str(dest), *specs]
    proc = subprocess.run(cmd, cwd=dest, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise FerError(f"`npm pack {' '.join(specs)}` failed ({proc.returncode}): {last}; "
                       "check that the npm registry is reachable (npm config get registry)")
    try:
        packed = {entry["name"]: dest / entry["filename"] for entry in json.loads(proc.stdout)}
    except (ValueError, KeyError, TypeError) as e:
        raise FerError(f"`npm pack` printed no JSON listing ({e}); output was: {proc.stdout[:200]!r}") from e
    return packed


def ensure_vega(root: Path = Path(".")) -> Path:
    """Make root/.cache/vega hold the pinned vega builds (idempotent: no npm call when they are there already)."""
    folder = root / VEGA_DIR
    if vega_ready(root):
        return folder
    stamp: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="npm-pack-") as tmp:
        packed = _npm_pack(Path(tmp))
        folder.mkdir(parents=True, exist_ok=True)
        # Downloaded third-party code, never committed: the folder ignores itself without touching .gitignore.
        (folder / ".gitignore").write_text("# fetched by python -m tools.plots_html; never commit\n*\n")
        for lib in LIBRARIES:
            tarball = packed.get(lib.name)
            if tarball is None or not tarball.is_file():
                raise FerError(f"`npm pack` did not produce the {lib.name}@{lib.version} tarball")
            data = tarball.read_bytes()
            got = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
            if got != lib.integrity:
                raise FerError(f"{lib.name}@{lib.version}: tarball integrity {got} differs from the pinned {lib.integrity}; "
                               "refusing it (a changed registry entry or a corrupt npm cache: try `npm cache verify`)")
            with tarfile.open(tarball, "r:gz") as tar:
                for member, target in ((f"package/{lib.build}", lib.file), ("package/LICENSE", f"{lib.name}.LICENSE")):
                    f = tar.extractfile(member)
                    if f is None:
                        raise FerError(f"{lib.name}@{lib.version}: {member} is missing from the package")
                    tmp_file = folder / f".{target}.tmp"
                    tmp_file.write_bytes(f.read())
                    os.replace(tmp_file, folder / target)
            stamp[lib.name] = _stamp(lib, _sha256(folder / lib.file))
    (folder / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
    return folder


def render(root: Path = Path("."), dvc: str = "dvc") -> Path:
    """Fetch the libraries if needed and write root/dvc_plots/index.html with every plot; return its path."""
    ensure_vega(root)
    cmd = [dvc, "plots", "show", "--html-template", str(TEMPLATE.resolve()), "-o", str(OUT_DIR)]
    page = root / OUT_DIR / "index.html"
    page.unlink(missing_ok=True)  # a page left from an earlier run must not pass for this one
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise FerError(f"`{' '.join(cmd)}` failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    if not page.is_file():  # DVC writes no page (exit 0) when no plot loaded
        why = (proc.stderr.strip() or "no plots loaded").rstrip(".")
        raise FerError(f"dvc plots show wrote no {page}: {why}; run `dvc repro` first")
    return page


def main(argv: list[str] | None = None) -> None:
    """CLI: write dvc_plots/index.html that works without internet and print its file:// URL."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path("."), help="repository root (default: the current folder)")
    p.add_argument("--fetch-only", action="store_true", help="only fetch vega into .cache/vega, do not run dvc")
    args = p.parse_args(argv)
    if args.fetch_only:
        print(ensure_vega(args.root))
        return
    venv_dvc = Path(sys.executable).with_name("dvc")  # the dvc of this environment, activated or not
    dvc = str(venv_dvc) if venv_dvc.is_file() else (shutil.which("dvc") or "dvc")
    print(render(args.root, dvc=dvc).resolve().as_uri())


if __name__ == "__main__":
    from fer_pipeline.cli import run

    run(main)
