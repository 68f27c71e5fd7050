"""fer_pipeline.analysis.headline and tools.publish: the headline verdicts in README.md and docs/study.md are generated
from the published statistics; each verdict reads what bootstrap.verdict says of its comparison, and a document
whose block differs from the regenerated one fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fer_pipeline.analysis.bootstrap import NO_DIFFERENCE, verdict
from fer_pipeline.analysis.headline import BEGIN, END, POWER, block_of, headline, power, splice
from tools.publish import HEADLINED, headline_problem, published_headline, stale_figures

from .conftest import ROOT
from .test_stats import stats_for, with_factorial


def published(**scores: float) -> tuple[dict, dict]:
    """A stats.json and design.json as the stats and design stages write them, for a crafted study."""
    families, data, design = with_factorial(**scores)
    full = stats_for(families, data, "activation-sigmoid", design)
    stats = {"data": "SYNTHETIC", "seeds": [0, 1, 2], "cnn_seeds": [0, 1], "test": full}
    return stats, design | {"architecture": "mlp3"}


def test_each_verdict_is_the_comparisons_own():
    """Every compared variant appears in its axis row with the verdict bootstrap.verdict gives it: 'above'/'below'
    with its Holm-adjusted interval when significant, in the 'no difference shown' list otherwise."""
    stats, design = published(base=0.5, activation_tanh=0.8, activation_sigmoid=0.5, factorial_1=0.7)
    text = headline(stats, design, {"skipped": "opt-in", "comparisons": [], "counts": {}})
    for axis, a in stats["test"]["axes"].items():
        row = next(r for r in text.splitlines() if r.startswith(f"| {axis} |"))
        for name, d in a["versus_control"].items():
            v = verdict(d["macro_recall"])
            if v == NO_DIFFERENCE:
                assert name in row.split("no difference shown for ")[1]
            else:
                lo, hi = d["macro_recall"]["ci_holm"]
                assert f"{name} {'above' if v == 'higher' else 'below'} base {d['macro_recall']['difference']:+.3f} " \
                       f"[{lo:+.3f}, {hi:+.3f}]" in row
    assert "| integrated model (factorial-1) |" in text and "replication" not in text


def test_what_it_can_see_counts_each_axis_comparison_against_the_target():
    """The power block gives, per axis, how many comparisons detect study.detect (detectable <= target) and names
    each one that does not with its own detectable difference and the seeds it would need; moving one comparison's
    detectable difference across the target moves it between the two."""
    stats, _ = published(base=0.5, activation_tanh=0.8, activation_sigmoid=0.5, factorial_1=0.7)
    axes = stats["test"]["axes"]
    for a in axes.values():
        for d in a["versus_control"].values():
            d["macro_recall"] |= {"detectable": 0.02, "target": 0.03, "seeds_needed": None}
    text = power(stats)
    assert "detect 0.030 in test macro recall" in text
    for axis, a in axes.items():
        n = len(a["versus_control"])
        assert f"- {axis}: {n} of {n} comparisons detect it" in text.splitlines()
    axis, a = next((k, v) for k, v in axes.items() if len(v["versus_control"]) > 1)
    name, d = next(iter(a["versus_control"].items()))
    d["macro_recall"] |= {"detectable": 0.0456, "seeds_needed": 9}
    n = len(a["versus_control"])
    assert f"- {axis}: {n - 1} of {n} comparisons detect it; not {name} 0.046 (needs 9 seeds)" in power(stats).splitlines()


def test_splice_replaces_only_the_marked_block():
    """splice swaps the block between the markers and keeps everything else; a text without markers is refused."""
    text = f"intro\n{BEGIN}\nold\n{END}\nrest\n"
    assert splice(text, "new") == f"intro\n{BEGIN}\nnew\n{END}\nrest\n" and block_of(splice(text, "new")) == "new"
    with pytest.raises(ValueError, match="no markers"):
        splice("no markers here", "new")
    empty = f"intro\n{BEGIN}\n{END}\nrest\n"  # a document given its markers for the first time
    assert block_of(empty) == "" and splice(empty, "new") == f"intro\n{BEGIN}\nnew\n{END}\nrest\n"


@pytest.mark.parametrize("doc", HEADLINED, ids=str)
def test_published_headlines_are_regenerated_from_the_published_statistics(doc):
    """A document that carries the headline markers holds exactly the block generated from docs/study/'s
    statistics (a document without them carries no generated verdicts)."""
    assert headline_problem(doc, ROOT) is None


def test_a_hand_edited_or_stale_headline_is_caught(tmp_path):
    """In a crafted project with published statistics: the regenerated block passes; a verdict edited by hand, or
    statistics republished without regenerating, fails with a line naming the document."""
    stats, design = published(base=0.5, activation_tanh=0.8)
    (tmp_path / "docs/study").mkdir(parents=True)
    for name, record in (("stats.json", stats), ("design.json", design),
                         ("replication.json", {"skipped": "opt-in", "comparisons": [], "counts": {}})):
        (tmp_path / "docs/study" / name).write_text(json.dumps(record))
    good = published_headline(tmp_path)
    doc = tmp_path / "README.md"
    doc.write_text(f"# x\n{BEGIN}\n{good}\n{END}\n")
    assert headline_problem(Path("README.md"), tmp_path) is None
    doc.write_text(f"# x\n{BEGIN}\n{good.replace('above', 'below')}\n{END}\n")
    assert "README.md: its headline differs" in headline_problem(Path("README.md"), tmp_path)
    sees = power(stats)
    doc.write_text(f"# x\n{BEGIN}\n{good}\n{END}\n{POWER[0]}\n{sees}\n{POWER[1]}\n")
    assert headline_problem(Path("README.md"), tmp_path) is None
    doc.write_text(f"# x\n{BEGIN}\n{good}\n{END}\n{POWER[0]}\n{sees.replace('of', 'out of', 1)}\n{POWER[1]}\n")
    assert "README.md: its what-it-can-see block differs" in headline_problem(Path("README.md"), tmp_path)


def test_figures_the_report_no_longer_makes_are_stale(tmp_path):
    """A figure in docs/study/ that the report stage no longer writes (an axis since removed) is stale, so publishing
    removes it; a figure the report still makes is not."""
    (tmp_path / "reports").mkdir()
    (tmp_path / "docs").mkdir()
    for name in ("axis_activation.png", "recall_heatmap.png"):
        (tmp_path / "reports" / name).write_bytes(b"png")
    for name in ("axis_activation.png", "axis_uncapped.png"):
        (tmp_path / "docs" / name).write_bytes(b"old")
    assert stale_figures(tmp_path / "reports", tmp_path / "docs") == [tmp_path / "docs/axis_uncapped.png"]
