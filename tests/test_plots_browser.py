"""`dvc plots show` in a real headless Chromium: the offline page renders every declared plot, without errors.

The browser is Debian's chromium (`apt-get install -y chromium`, /usr/bin/chromium, or $FER_CHROMIUM), driven
through the DevTools protocol over a pipe (`--remote-debugging-pipe`, standard library only). Its log lines on
stderr are not enough: Chromium 156 prints every console message as INFO, whatever its level, and never
prints failed resource loads. Name resolution is mapped to nothing, so a page that reached for a CDN fails
here even where the machine is online. Without chromium the browser tests skip, or fail when
FER_REQUIRE_BROWSER=1 (CI). The full-page screenshot lands in pytest's temporary folder and, when
$FER_TEST_ARTIFACTS is set, is copied there.
"""

from __future__ import annotations

import base64
import copy
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from fer_pipeline import CLASSES, FerError
from tools import plots_html

from .conftest import ROOT
from .dvcproject import sh, tiny_copy

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--no-default-browser-check", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars", "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no host resolves: any http(s) request fails, online or not
]
WIDTH = 1400  # CSS pixels of the page's viewport


def chromium_or_skip() -> str:
    """Path of the chromium binary; skip the test without one (fail instead when FER_REQUIRE_BROWSER=1)."""
    exe = os.environ.get("FER_CHROMIUM") or shutil.which("chromium")
    if exe and Path(exe).is_file():
        return exe
    msg = "chromium not installed (Debian: apt-get install -y chromium, or set FER_CHROMIUM to its binary)"
    if os.environ.get("FER_REQUIRE_BROWSER") == "1":
        pytest.fail(msg + "; FER_REQUIRE_BROWSER=1 makes the browser tests mandatory")
    pytest.skip(msg)


@dataclass
class PageVisit:
    """What the browser saw while loading one page."""

    errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions, failed loads
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    dom: dict = field(default_factory=dict)  # the result of DOM_FACTS
    probes: dict = field(default_factory=dict)  # name -> value of each probe expression (awaited)
    screenshot: bytes = b""


class Chromium:
    """A headless Chromium driven over the DevTools protocol on fds 3 (its input) and 4 (its output)."""

    def __init__(self, exe: str, profile: Path, log: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Parked on fds >= 10 (close-on-exec) so that placing them on 3 and 4 in the child cannot clobber each other.
        hi_r, hi_w = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child_r, from_child_w))
        os.close(to_child_r)
        os.close(from_child_w)

        def on_fds_3_and_4() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=on_fds_3_and_4, close_fds=False, start_new_session=True)
        os.close(hi_r)
        os.close(hi_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium over the DevTools pipe")
            if select.select([self._from_child], [], [], left)[0]:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium closed the DevTools pipe (exit status {self.proc.poll()})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        """Send one command, keep the events that arrive meanwhile, and return its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def pump(self, seconds: float) -> None:
        """Collect events for a while."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_message(deadline))
        except TimeoutError:
            pass

    def wait_event(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read_message(deadline))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            os.close(fd)
        self._log.close()


# Rendered vega charts: vega-embed marks its container `vega-embed` and draws into a canvas (or svg) of class
# `marks`; a chart counts when that element has a size and something drawn on it.
DOM_FACTS = """(() => {
  const drawn = (m) => {
    const box = m.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return false;
    if (m.tagName.toLowerCase() === 'svg') return m.querySelectorAll('path, rect, line, text').length > 0;
    const px = m.getContext('2d').getImageData(0, 0, m.width, m.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  };
  const embeds = [...document.querySelectorAll('.vega-embed')];
  const imgs = [...document.images];
  return {
    embeds: embeds.map(e => e.id),
    rendered: embeds.filter(e => [...e.querySelectorAll('svg.marks, canvas.marks')].some(drawn)).map(e => e.id),
    images: imgs.map(i => i.getAttribute('src')),
    loaded_images: imgs.filter(i => i.complete && i.naturalWidth > 0).map(i => i.getAttribute('src')),
    globals: {vega: typeof vega, vegaLite: typeof vegaLite, vegaEmbed: typeof vegaEmbed},
  };
})()"""


def page_log(events: list[dict]) -> tuple[list[str], list[str]]:
    """The URLs requested, and the errors: console.error/assert, uncaught exceptions, failed loads, error log entries."""
    requests: list[str] = []
    errors: list[str] = []
    urls: dict[str, str] = {}
    for event in events:
        method, p = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[p["requestId"]] = p["request"]["url"]
            requests.append(p["request"]["url"])
        elif method == "Network.loadingFailed":
            errors.append(f"failed load {urls.get(p['requestId'], '?')}: {p.get('errorText')}")
        elif method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            errors.append(f"console.{p['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            errors.append(f"uncaught: {d.get('exception', {}).get('description') or d.get('text')}")
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append(f"log ({p['entry'].get('source')}): {p['entry']['text']} {p['entry'].get('url', '')}")
    return requests, errors


def visit(exe: str, url: str, tmp: Path, until: str = "true", timeout: float = 60,
          probes: dict[str, str] | None = None) -> PageVisit:
    """Load url, wait for its load event and then until the JS expression `until` holds, and report what happened;
    each probe (a JS expression, a promise is awaited) is then evaluated in the page."""
    browser = Chromium(exe, tmp / "profile", tmp / "chromium.log")
    seen = PageVisit()
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": WIDTH, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.call("Page.navigate", {"url": url}, session=session)
        browser.wait_event("Page.loadEventFired", timeout)
        deadline = time.monotonic() + timeout
        first_error = None
        while time.monotonic() < deadline:
            done = browser.call("Runtime.evaluate", {"expression": until, "returnByValue": True}, session=session)
            if done.get("result", {}).get("value") is True:
                break
            browser.pump(0.25)
            if first_error is None and page_log(browser.events)[1]:
                first_error = time.monotonic()
            if first_error is not None and time.monotonic() - first_error > 2:
                break  # the page already failed; a little longer for more errors, not the whole timeout
        browser.pump(0.5)  # late errors (a chart failing after the others) still count
        for name, expression in (probes or {}).items():
            got = browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                    "awaitPromise": True}, session=session, timeout=timeout)
            seen.probes[name] = got["result"].get("value") if "exceptionDetails" not in got else \
                {"exception": got["exceptionDetails"].get("exception", {}).get("description")}
        facts = browser.call("Runtime.evaluate", {"expression": DOM_FACTS, "returnByValue": True}, session=session)
        seen.dom = facts["result"].get("value") or {"exception": facts.get("exceptionDetails")}
        size = browser.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = browser.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": max(size["width"], WIDTH), "height": size["height"], "scale": 1}},
            session=session, timeout=60)
        seen.screenshot = base64.b64decode(shot["data"])
    finally:
        browser.close()
    seen.requests, seen.errors = page_log(browser.events)
    return seen


def save_artifact(path: Path) -> Path:
    """Copy a test artefact to $FER_TEST_ARTIFACTS when set (CI uploads that folder); return where it is."""
    folder = os.environ.get("FER_TEST_ARTIFACTS")
    if not folder:
        return path
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(path, Path(folder) / path.name))


# What vega itself computes for a chart: the page's own vega and vega-lite compile the spec and run it headless
# (renderer none), then report the domains of the chart's top-level scales and, for a confusion matrix, every
# cell of its rect layer as [rev, x value, y value, share of row].
VEGA_FACTS = """(async (specs) => {
  const out = {};
  for (const [id, spec] of Object.entries(specs)) {
    try {
      const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), {renderer: 'none'});
      await view.runAsync();
      const scales = {};
      for (const name of ['x', 'y', 'color', 'strokeDash']) {
        try { scales[name] = view.scale(name).domain(); } catch (e) { /* the chart has no such scale */ }
      }
      const enc = (spec.spec || spec).encoding || {};
      const cells = [];
      const walk = (node) => {
        if (node.marktype === 'rect') {
          for (const item of node.items || []) {
            const d = item.datum;
            if (d && 'percent_of_y' in d) cells.push([d.rev, d[enc.x.field], d[enc.y.field], d.percent_of_y]);
          }
        }
        for (const child of node.items || []) walk(child);
      };
      walk(view.scenegraph().root);
      out[id] = {scales, cells};
      view.finalize();
    } catch (e) {
      out[id] = {error: String(e)};
    }
  }
  return out;
})"""
EMBED = re.compile(r'<div id = "([^"]+)">\s*<script type = "text/javascript">\s*var spec = (.*?);\s*vegaEmbed\(\'#\1\', spec\);',
                   re.S)


def embedded_specs(html: str) -> dict[str, dict]:
    """The vega-lite spec DVC embedded in the page for each chart, by the id of its div."""
    return {div: json.loads(spec) for div, spec in EMBED.findall(html)}


def dvclive_plots(project: Path) -> dict[str, dict]:
    """The top-level plots of the project's dvc.yaml that draw DVCLive logs (metrics/train/...), by id."""
    found = {}
    for entry in yaml.safe_load((project / "dvc.yaml").read_text()).get("plots", []):
        plot_id, props = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        props = props or {}
        files = list(props["y"]) if isinstance(props.get("y"), dict) else [plot_id]
        if any(f.startswith("metrics/train/") for f in files):
            found[plot_id] = {**props, "files": files}
    return found


def confusion_ids(declared: dict) -> list[str]:
    """Div ids of the confusion matrices: the plots DVC draws from a predictions.csv."""
    from dvc_render.base import Renderer

    return [Renderer.remove_special_chars(plot_id) for plot_id in declared["data"] if plot_id.endswith("predictions.csv")]


def never_predicting(spec: dict, x_field: str) -> tuple[dict, str]:
    """A copy of a confusion spec whose data never predicts the class predicted most often (relabelled as the next
    class), and that class."""
    rows = spec["data"]["values"]
    counts = {c: sum(r[x_field] == c for r in rows) for c in CLASSES}
    dropped = max(CLASSES, key=lambda c: counts[c])
    other = CLASSES[(CLASSES.index(dropped) + 1) % len(CLASSES)]
    changed = copy.deepcopy(spec)
    for row in changed["data"]["values"]:
        if row[x_field] == dropped:
            row[x_field] = other
    return changed, dropped


# --- the page template and the pinned libraries (fast, no browser) ---------------------------------------------


def test_template_loads_local_libraries_never_the_cdn() -> None:
    """The template has DVC's plot placeholder, not its scripts placeholder (CDN tags), and loads the three
    libraries from ../.cache/vega/, in dependency order, nothing over the network."""
    html = plots_html.TEMPLATE.read_text()
    assert html.count("{plot_divs}") == 1 and "{scripts}" not in html
    assert "http://" not in html and "https://" not in html
    srcs = re.findall(r'<script src="([^"]+)"', html)
    assert srcs == [f"../{plots_html.VEGA_DIR.as_posix()}/{lib.file}" for lib in plots_html.LIBRARIES]
    assert plots_html.OUT_DIR == Path("dvc_plots")  # the relative paths above start from dvc_plots/index.html


def test_pinned_versions_are_the_ones_dvc_loads() -> None:
    """The offline page runs exactly the vega, vega-lite and vega-embed versions DVC's own page loads from its CDN."""
    from dvc_render.vega import VegaRenderer

    cdn = dict(re.findall(r"cdn\.jsdelivr\.net/npm/([a-z-]+)@([0-9.]+)", VegaRenderer.SCRIPTS))
    assert cdn == {lib.name: lib.version for lib in plots_html.LIBRARIES}


def test_missing_npm_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without npm (and nothing fetched yet) ensure_vega stops with one line saying what to install."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    with pytest.raises(FerError, match=r"npm not found on PATH.*apt-get install -y npm"):
        plots_html.ensure_vega(tmp_path)


def test_fetched_libraries_are_checked(tmp_path: Path) -> None:
    """A complete .cache/vega whose file was altered after unpacking is not taken as ready."""
    folder = tmp_path / plots_html.VEGA_DIR
    folder.mkdir(parents=True)
    stamp = {}
    for lib in plots_html.LIBRARIES:
        (folder / lib.file).write_text("// stand-in")
        stamp[lib.name] = plots_html._stamp(lib, plots_html._sha256(folder / lib.file))
    (folder / plots_html.STAMP).write_text(json.dumps(stamp))
    assert plots_html.vega_ready(tmp_path)
    (folder / plots_html.LIBRARIES[0].file).write_text("// tampered")
    assert not plots_html.vega_ready(tmp_path)


# --- the page in the browser -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_harness_sees_console_errors_and_failed_loads(tmp_path: Path) -> None:
    """The browser harness is not blind: a deliberate console.error, a thrown error, a missing script and a CDN
    request are all reported, while console.log and console.warn are not errors."""
    exe = chromium_or_skip()
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><head><script src='missing.js'></script>"
                    "<script src='https://cdn.jsdelivr.net/npm/vega@5.20.2'></script></head><body>"
                    "<script>console.log('fine'); console.warn('also fine'); console.error('deliberate 42');"
                    "setTimeout(() => { throw new Error('thrown 7'); }, 100);</script></body></html>")
    seen = visit(exe, page.as_uri(), tmp_path, until="false", timeout=2)
    text = "\n".join(seen.errors)
    assert "console.error: deliberate 42" in text
    assert "thrown 7" in text
    assert re.search(r"failed load file://\S*missing\.js", text)
    assert re.search(r"failed load https://cdn\.jsdelivr\.net\S*", text)
    assert "fine" not in text


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, PageVisit]:
    """The tiny project after `dvc repro`, what `dvc plots show --json` declares, and the browser's visit of the
    page `python -m tools.plots_html` wrote."""
    exe = chromium_or_skip()  # before the minute of `dvc repro`
    project = tiny_copy(tmp_path_factory.mktemp("project"))
    if plots_html.vega_ready(ROOT):  # reuse what the checkout fetched already; else npm fetches it
        shutil.copytree(ROOT / plots_html.VEGA_DIR, project / plots_html.VEGA_DIR)
    elif shutil.which("npm") is None and os.environ.get("FER_REQUIRE_BROWSER") != "1":
        pytest.skip("npm not installed: it fetches vega for the offline page (Debian: apt-get install -y npm)")
    sh(project, "dvc", "repro")
    declared = json.loads(sh(project, "dvc", "plots", "show", "--json", "-o", str(tmp_path_factory.mktemp("json"))))
    sh(project, "python", "-m", "tools.plots_html")
    page = project / "dvc_plots" / "index.html"
    n_vega = sum(p["type"] == "vega" for plots in declared["data"].values() for p in plots)
    until = f"document.querySelectorAll('.vega-embed canvas.marks, .vega-embed svg.marks').length >= {n_vega}"
    specs = embedded_specs(page.read_text())
    for div in confusion_ids(declared):  # plus each confusion matrix with a class the model never predicted
        x_field = specs[div]["spec"]["encoding"]["x"]["field"]
        changed, dropped = never_predicting(specs[div], x_field)
        specs[f"{div}#never-{dropped}"] = changed
    seen = visit(exe, page.as_uri(), tmp_path_factory.mktemp("browser"), until=until,
                 probes={"vega": f"{VEGA_FACTS}({json.dumps(specs)})"})
    return page, declared, seen


@pytest.mark.slow
def test_declared_plots_all_load(rendered: tuple[Path, dict, PageVisit]) -> None:
    """DVC reports no plot definition it failed to load, and the page holds one div per declared plot."""
    page, declared, _ = rendered
    assert not declared.get("errors"), declared.get("errors")
    kinds = [p["type"] for plots in declared["data"].values() for p in plots]
    assert set(kinds) <= {"vega", "image"}
    html = page.read_text()
    assert html.count("vegaEmbed('#") == kinds.count("vega") > 0
    assert html.count("<img") == kinds.count("image") > 0
    assert "cdn.jsdelivr" not in html


@pytest.mark.slow
def test_page_loads_without_errors_or_network(rendered: tuple[Path, dict, PageVisit]) -> None:
    """No console error, uncaught exception or failed load, and nothing requested beyond local files."""
    _, _, seen = rendered
    assert seen.errors == []
    assert seen.dom["globals"] == {"vega": "object", "vegaLite": "object", "vegaEmbed": "function"}
    assert [u for u in seen.requests if not u.startswith(("file://", "data:"))] == []


@pytest.mark.slow
def test_every_declared_plot_renders(rendered: tuple[Path, dict, PageVisit]) -> None:
    """Each vega plot DVC declares is drawn as a chart (a vega-embed element with a non-empty `marks` canvas or
    svg), and each image plot is loaded; none is hard-coded: the counts come from `dvc plots show --json`."""
    page, declared, seen = rendered
    kinds = [p["type"] for plots in declared["data"].values() for p in plots]
    dom = seen.dom
    missing = sorted(set(dom["embeds"]) - set(dom["rendered"]))
    assert missing == [], f"vega-embed elements without a drawn chart: {missing}"
    assert len(dom["rendered"]) == len(dom["embeds"]) == kinds.count("vega")
    assert len(dom["loaded_images"]) == len(dom["images"]) == kinds.count("image")
    assert kinds.count("image") >= 3 + 8  # baseline curves/confusion/grid + the report's heatmap, confusion and 6 axes
    for src in dom["images"]:
        assert (page.parent / src).is_file()


@pytest.mark.slow
def test_screenshot_is_saved(rendered: tuple[Path, dict, PageVisit], tmp_path_factory: pytest.TempPathFactory) -> None:
    """A full-page PNG screenshot of the rendered page is written as a test artefact."""
    _, _, seen = rendered
    assert seen.screenshot.startswith(b"\x89PNG\r\n\x1a\n") and len(seen.screenshot) > 10_000
    width, height = int.from_bytes(seen.screenshot[16:20], "big"), int.from_bytes(seen.screenshot[20:24], "big")
    assert width >= WIDTH and height > 1000
    shot = tmp_path_factory.mktemp("artifacts") / "dvc_plots.png"
    shot.write_bytes(seen.screenshot)
    print(f"screenshot: {save_artifact(shot)}")


@pytest.mark.slow
def test_loss_charts_overlay_train_and_valid(rendered: tuple[Path, dict, PageVisit]) -> None:
    """Rule: train and valid loss of a run are read off ONE chart. For the baseline and the cnn recipe, dvc.yaml has
    one top-level plot whose y names both the run's train/loss.tsv and valid/loss.tsv, and on the page that chart's
    data holds both series (rows of each) and vega's line-style scale tells them apart."""
    page, _, seen = rendered
    specs = embedded_specs(page.read_text())
    plots = dvclive_plots(page.parent.parent)
    for run in ("baseline", "cnn"):
        logs = f"metrics/train/{run}/plots/metrics"
        loss = [pid for pid, p in plots.items() if set(p["files"]) == {f"{logs}/train/loss.tsv", f"{logs}/valid/loss.tsv"}]
        assert len(loss) == 1, f"{run}: one chart with train and valid loss, got {loss}"
        recall = [pid for pid, p in plots.items()
                  if set(p["files"]) == {f"{logs}/train/macro_recall.tsv", f"{logs}/valid/macro_recall.tsv"}]
        assert len(recall) == 1, f"{run}: one chart with train and valid macro recall, got {recall}"
        spec = specs[loss[0]]
        series = {row["filename"] for row in spec["data"]["values"]}
        assert series == {"train/loss.tsv", "valid/loss.tsv"}
        assert all(any(row["filename"] == s and row["loss"] for row in spec["data"]["values"]) for s in series)
        assert sorted(seen.probes["vega"][loss[0]]["scales"]["strokeDash"]) == sorted(series)
    lr = [pid for pid, p in plots.items() if p["files"] == ["metrics/train/cnn/plots/metrics/lr.tsv"]]
    assert len(lr) == 1 and lr[0] in specs, "the recipe's learning rate schedule has a chart"


@pytest.mark.slow
def test_no_chart_per_dvclive_file(rendered: tuple[Path, dict, PageVisit]) -> None:
    """Rule: no chart is a single DVCLive .tsv file drawn on its own (what DVC does for a `plots:` folder of a
    stage): every chart DVC declares has a name, and each .tsv it draws is part of a named top-level plot."""
    page, declared, seen = rendered
    assert [pid for pid in declared["data"] if pid.endswith(".tsv")] == []
    assert [div for div in seen.dom["embeds"] if div.endswith("_tsv")] == []
    assert [div for div in embedded_specs(page.read_text()) if div.endswith("_tsv")] == []
    assert set(dvclive_plots(page.parent.parent)) <= set(declared["data"])


@pytest.mark.slow
def test_confusion_matrices_are_square_over_all_classes(rendered: tuple[Path, dict, PageVisit]) -> None:
    """Rule: a confusion matrix lists all 7 classes, in fixed order (fer_pipeline.CLASSES), on both axes, and has a
    cell for every pair, even when the model never predicted a class. Checked in the spec DVC embeds in the page (the
    scales' explicit domain) and in what vega computes in the browser: the x and y scale domains and the 49 cells of
    each revision, for the real predictions and for a copy where the most predicted class is never predicted."""
    page, declared, seen = rendered
    specs = embedded_specs(page.read_text())
    ids = confusion_ids(declared)
    assert sorted(ids) == ["data_evaluate_baseline_predictions_csv", "data_evaluate_cnn_predictions_csv"]
    facts = seen.probes["vega"]
    for div in ids:
        encoding = specs[div]["spec"]["encoding"]
        for axis in ("x", "y"):
            assert encoding[axis].get("scale", {}).get("domain") == list(CLASSES), (div, axis, encoding[axis])
            assert encoding[axis].get("sort") == list(CLASSES), (div, axis, encoding[axis])
        never = [name for name in facts if name.startswith(f"{div}#never-")]
        assert len(never) == 1
        for name in (div, never[0]):
            got = facts[name]
            assert "error" not in got, got
            assert got["scales"]["x"] == list(CLASSES) and got["scales"]["y"] == list(CLASSES), name
            cells = {(rev, x, y): share for rev, x, y, share in got["cells"]}
            revs = {rev for rev, _, _ in cells}
            assert revs == {"workspace"}
            assert set(cells) == {(rev, x, y) for rev in revs for x in CLASSES for y in CLASSES}, name
            for y in CLASSES:  # each row is a distribution over the predicted classes, or all 0 when empty
                row = [cells[("workspace", x, y)] for x in CLASSES]
                assert sum(row) == pytest.approx(1.0) or not any(row), (name, y, row)
            if name != div:  # the class never predicted has its column, all 0
                dropped = name.split("#never-")[1]
                assert [cells[("workspace", dropped, y)] for y in CLASSES] == [0] * len(CLASSES)
