"""The study's headline: one table of verdicts generated from the published statistics (docs/study/stats.json,
design.json, replication.json), and what the run can see (each axis comparison's detectable difference against the
study's target), spliced between markers into README.md and docs/study.md by `make publish-report`
(tools/publish.py). No verdict or power figure there is typed by hand: tests/test_headline.py regenerates each block
from the published files and fails when the text differs.
"""

from __future__ import annotations

import re
from typing import Any

from fer_pipeline.analysis.bootstrap import HIGHER, LOWER, NO_DIFFERENCE, verdict

BEGIN, END = "<!-- headline: generated from docs/study/*.json by make publish-report -->", "<!-- /headline -->"
POWER = ("<!-- power: generated from docs/study/stats.json by make publish-report -->", "<!-- /power -->")
WORDS = {HIGHER: "above", LOWER: "below"}


def _f(x: float) -> str:
    return f"{x:.3f}"


def _d(c: dict[str, Any]) -> str:
    """A difference with its Holm-adjusted interval."""
    lo, hi = c["ci_holm"]
    return f"{c['difference']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def axis_row(axis: str, a: dict[str, Any], variants: dict[str, Any]) -> str:
    """One axis: each variant's mean test macro recall, and the verdicts against its control."""
    means = ", ".join(f"{n} {_f(variants[n]['macro_recall']['mean'])}" for n in a["family"])
    shown = [f"{n} {WORDS[verdict(d['macro_recall'])]} {a['control']} {_d(d['macro_recall'])}"
             for n, d in a["versus_control"].items() if verdict(d["macro_recall"]) != NO_DIFFERENCE]
    none = [n for n, d in a["versus_control"].items() if verdict(d["macro_recall"]) == NO_DIFFERENCE]
    parts = shown + ([f"no difference shown for {', '.join(none)}"] if none else [])
    parts += [f"degenerate: {', '.join(a['degenerate'])}"] if a["degenerate"] else []
    return f"| {axis} | {means} | {'; '.join(parts) or 'nothing compared'} |"


def headline(stats: dict[str, Any], design: dict[str, Any], replication: dict[str, Any] | None) -> str:
    """The verdict table, from stats.json (full test set), design.json and replication.json."""
    full = stats["test"]
    rows = [f"Data: {stats['data']}; seeds {', '.join(map(str, stats['seeds']))} per MLP, "
            f"{', '.join(map(str, stats['cnn_seeds']))} per CNN; {full['test_images']} test images. Verdicts are "
            "Holm-adjusted within each family, with Holm-adjusted intervals; test macro recall.", "",
            "| question | test macro recall (mean over seeds) | verdict |", "|---|---|---|"]
    rows += [axis_row(axis, a, full["variants"]) for axis, a in full["axes"].items()]
    if "depth_interaction" in full:
        shown = [k for k, c in full["depth_interaction"]["contrasts"].items() if c["significant_holm"]]
        rows.append(f"| depth × activation | interaction contrasts | {'shown for ' + ', '.join(shown) if shown else 'none shown'} |")
    if "factorial" in full:
        shown = [f"{k} {_d(c)}" for k, c in full["factorial"]["contrasts"].items() if c["significant_holm"]]
        rows.append(f"| factorial at {design['architecture']} | effects of the carried picks | "
                    f"{'shown: ' + '; '.join(shown) if shown else 'no effect shown'} |")
    integrated = full.get("integrated")
    if integrated:
        name = integrated["variant"]
        best = integrated["versus"].get("best single variant")
        text = (f"{NO_DIFFERENCE} from {best['against']} {_d(best['macro_recall'])}" if best and
                verdict(best["macro_recall"]) == NO_DIFFERENCE else
                f"{WORDS[verdict(best['macro_recall'])]} {best['against']} {_d(best['macro_recall'])}" if best else
                "it is the best single variant on validation")
        rows.append(f"| integrated model ({name}) | {_f(full['variants'][name]['macro_recall']['mean'])} | {text} |")
    if replication and not replication["skipped"]:
        counts = ", ".join(f"{n} {o}" for o, n in replication["counts"].items())
        rows.append(f"| replication at fresh seeds | the significant comparisons retrained | {counts} |")
    return "\n".join(rows)


def power(stats: dict[str, Any]) -> str:
    """What the run can see, per axis: how many of its comparisons detect the study's target (study.detect) in test
    macro recall with 80% power after Holm, and each one that misses it, with its own detectable difference and the
    seeds it would need (report.detectable_cell, the report's own wording)."""
    from fer_pipeline.analysis.report import detectable_cell  # matplotlib: only where this block is made

    lines, target = [], None
    for axis, a in stats["test"]["axes"].items():
        ms = {n: d["macro_recall"] for n, d in a["versus_control"].items()}
        if not ms:
            continue
        target = next(iter(ms.values()))["target"]  # study.detect, the same for every comparison
        missed = [f"{n} {detectable_cell(m) or 'not estimated (one seed)'}" for n, m in ms.items()
                  if m.get("detectable") is None or m["detectable"] > m["target"]]
        lines.append(f"- {axis}: {len(ms) - len(missed)} of {len(ms)} comparisons detect it"
                     + (f"; not {', '.join(missed)}" if missed else ""))
    if target is None:
        return "No axis comparison was made."
    return "\n".join([f"What this run can see: the comparisons that detect {_f(target)} in test macro recall (study.detect) "
                      "with 80% power after Holm within their family, and the detectable difference of each that does "
                      "not, with the seeds it would need at its own noise:", "", *lines])


def _marked(markers: tuple[str, str]) -> re.Pattern[str]:
    """The markers and what lies between them; a document gets its first block from a pair of empty markers."""
    return re.compile(re.escape(markers[0]) + r"\n(.*?)\n?" + re.escape(markers[1]), re.S)


def splice(text: str, block: str, markers: tuple[str, str] = (BEGIN, END)) -> str:
    """`text` with the block between its markers replaced (the markers kept); a text without them is an error."""
    (begin, end), marked = markers, _marked(markers)
    if not marked.search(text):
        raise ValueError(f"no markers ({begin} ... {end})")
    return marked.sub(lambda _: f"{begin}\n{block}\n{end}", text, count=1)


def block_of(text: str, markers: tuple[str, str] = (BEGIN, END)) -> str | None:
    """The block between a text's markers ("" for empty markers), or None when it has none."""
    m = _marked(markers).search(text)
    return m.group(1) if m else None
