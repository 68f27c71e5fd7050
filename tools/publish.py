"""`make publish-report`: the study's generated report, its figures and the statistics behind them copied to
docs/study/, and the blocks generated from those statistics (fer_pipeline.analysis.headline: the headline verdict
table, and what the run can see) regenerated in every document that carries their markers (README.md, docs/study.md).

    python -m tools.publish
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fer_pipeline import FerError, cli, paths
from fer_pipeline.analysis.headline import BEGIN, END, POWER, block_of, headline, power, splice
from fer_pipeline.io import read_json

DOCS = Path("docs/study")
STATS_FILES = (paths.STATS, paths.DESIGN, paths.REPLICATION)  # what the headline is generated from
HEADLINED = (Path("README.md"), Path("docs/study.md"))


def published_headline(root: Path = Path(".")) -> str:
    """The headline generated from the statistics published in docs/study/."""
    stats, design, replication = (read_json(root / DOCS / f.name) for f in STATS_FILES)
    return headline(stats, design, replication)


def published_blocks(root: Path = Path(".")) -> dict[tuple[str, str], tuple[str, str]]:
    """Each generated block's markers: its name and its text, from the statistics published in docs/study/."""
    return {(BEGIN, END): ("headline", published_headline(root)),
            POWER: ("what-it-can-see block", power(read_json(root / DOCS / paths.STATS.name)))}


def headline_problem(doc: Path, root: Path = Path(".")) -> str | None:
    """Why one of `doc`'s generated blocks is not the one the published statistics generate, or None when each is
    (a document carries any of them, or none)."""
    text = (root / doc).read_text()
    for markers, (name, block) in published_blocks(root).items():
        held = block_of(text, markers)
        if held is not None and held != block:
            return f"{doc}: its {name} differs from the one docs/study/*.json generate; run `make publish-report`"
    return None


def stale_figures(report_dir: Path, docs: Path) -> list[Path]:
    """Figures in docs/study/ that the report no longer makes (e.g. an axis since removed): published with an older
    report, they would be read as this one's."""
    made = {f.name for f in report_dir.glob("*.png")}
    return sorted(f for f in docs.glob("*.png") if f.name not in made)


def main() -> None:
    missing = [str(f) for f in (paths.STUDY_REPORT, *STATS_FILES) if not f.is_file()]
    if missing:
        raise FerError(f"{missing[0]}: missing; run `dvc repro report` first")
    DOCS.mkdir(parents=True, exist_ok=True)
    for f in stale_figures(paths.REPORTS, DOCS):  # docs/study/ is generated (git keeps the old ones)
        f.unlink()
        print(f"publish: removed {f}, which the report no longer makes")
    for f in (paths.STUDY_REPORT, *paths.REPORTS.glob("*.png"), *STATS_FILES):
        shutil.copy(f, DOCS / f.name)
    blocks = published_blocks()
    for doc in HEADLINED:
        text = doc.read_text()
        for markers, (name, block) in blocks.items():
            if block_of(text, markers) is not None:
                text = splice(text, block, markers)
                print(f"publish: regenerated the {name} in {doc}")
        doc.write_text(text)
    print(f"publish: copied {paths.STUDY_REPORT}, its figures and {', '.join(f.name for f in STATS_FILES)} to {DOCS}/")


if __name__ == "__main__":
    cli.run(main)
