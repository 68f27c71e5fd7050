"""What `make study` is about to run, and about how long it takes, printed before the long part.

    python -m tools.plan

Lists the stages `dvc status` finds out of date, grouped by kind, with the training runs they hold and an
estimate from per-stage costs measured on the reference machine (COST_S). It runs nothing. The same kinds and
costs split the study over the fan-out's workers (partition; tools/fanout.py).
"""

from __future__ import annotations

from collections import Counter

from fer_pipeline import FerError, cli
from fer_pipeline.analysis.variants import seeds_key
from fer_pipeline.params import DataParams, ParamsFile, PresetsParams, StudyParams

# Wall seconds per stage of each kind on the reference machine (2-core AMD EPYC, 24 GiB, torch 2.14.1, CPU), for
# the synthetic stand-in and the real archive: a study stage trains and evaluates all its seeds. Measured with
# `dvc repro` of the default params on a fresh checkout, per kind the total divided by the number of stages:
# synthetic, the whole pipeline (16.3 min); real, `dvc repro report` (88.6 min) for data, study, carry-over and
# summary, and the whole pipeline for the baseline and the recipe. The factorial's real cost per stage is the
# former carry-over round's, measured the same way: one retried pick on the chosen architecture, 3 CNN runs of the
# two-conv study CNN (the study CNN now has one conv per width, so it is an upper bound). On the stand-in choose
# keeps no pick beyond the base levels, so every point trains nothing and takes ~7 s: `make study` on a fresh clone
# (2026-12-02, 46 stages, 120 training runs) took 13.3 min, against this table's 12.6. The summary's replicate
# stage trains nothing by default (study.replicate_seeds empty); with replicate seeds its runs are not in the
# estimate. A study stage's cost is for COST_SEEDS seeds and scales with the seeds the stage trains (stage_seeds):
# at 9 seeds per MLP the unscaled table said about 12 min for the stand-in, and `make study` on a fresh clone took
# 21.7 min (2026-12-08, 2-core AMD EPYC of CPU family 25, 43 stages, 185 training runs); the stand-in's study cost is
# that run's study stages' share (its total less the other kinds' costs below, 992 s for 183 seeds) at 3 seeds.
# An estimate, not a promise: the machine's load moves it.
COST_SEEDS = 3
COST_S = {
    "data": {"synthetic": 4.7, "real": 6.0},
    "baseline": {"synthetic": 8.3, "real": 17.0},
    "recipe": {"synthetic": 62.0, "real": 460.0},
    "study": {"synthetic": 16.2, "real": 98.0},
    "factorial": {"synthetic": 7.0, "real": 542.0},
    "summary": {"synthetic": 6.0, "real": 9.0},
}
# The data kind's stages live in a dvc.yaml of their own, with a lock of their own: DVC rewrites a stage's whole lock
# file after running it, and the rest of the pipeline's is a few hundred KB (docs/benchmarks.md, row 1).
DATA_DVCFILE = "data/dvc.yaml"
KINDS = {
    "data": ("fetch", "split", "preprocess"),
    "baseline": ("train", "evaluate", "plot"),
    "recipe": ("train_cnn", "evaluate_cnn", "plot_cnn"),
    "summary": ("choose", "design", "stats", "replicate", "report", "release"),
    "factorial": ("study_factorial",),
}
TITLES = {"data": "data: fetch, split, preprocess", "baseline": "baseline MLP: train, evaluate, plot (the first result)",
          "recipe": "CNN recipe: train_cnn, evaluate_cnn, plot_cnn", "study": "study variants",
          "factorial": "factorial at the chosen architecture (CNN runs if it is the CNN; a point it does not need trains nothing)",
          "summary": "choose, design, stats, replicate, report, release"}


def kind_of(stage: str) -> str:
    """The kind of a stage by its name (matrix entries by their base name; data/dvc.yaml:fetch by fetch)."""
    name = stage.rpartition(":")[2].split("@")[0]
    for kind, names in KINDS.items():
        if name in names:
            return kind
    if name.startswith("study_"):
        return "study"
    raise FerError(f"dvc.yaml: stage {stage!r} has no kind in tools/plan.py KINDS; add it there")


# The fan-out (tools.fanout, docs/scaling.md) runs the pipeline in waves. Upstream, once: the data kind. Wave 1, spread
# over N workers: the baseline, the recipe and the one-factor study stages, which read only the data. Wave 2, over N
# workers: the factorial kind, which reads choose's output (data/choose/choice.json; each worker computes choose, a
# few seconds, from wave 1's restored runs). The gather, in one clone: the summary kind.
WAVE1 = ("baseline", "recipe", "study")
# Kinds whose stages feed each other (train -> evaluate -> plot): one worker runs the whole chain, in this order.
CHAINS = ("baseline", "recipe")


def partition(stages: list[str], n: int, data: str) -> list[list[str]]:
    """The first wave's stages among `stages` in n disjoint sets balanced by COST_S (longest processing time first:
    the costliest unit goes to the least loaded set, ties to the lower index), the same for every caller. A chain
    kind is one unit; each study stage is one. Stages outside the first wave are left out."""
    if n < 1:
        raise FerError(f"fan-out: {n} workers asked for; give --of 1 or more")
    units = [(len(chain) * COST_S[kind][data], chain)
             for kind in CHAINS if (chain := [s for s in KINDS[kind] if s in stages])]
    units += [(COST_S["study"][data], [s]) for s in sorted(stages) if kind_of(s) == "study"]
    units.sort(key=lambda unit: (-unit[0], unit[1]))
    loads, parts = [0.0] * n, [[] for _ in range(n)]
    for cost, chain in units:
        i = min(range(n), key=lambda k: (loads[k], k))
        parts[i] += chain
        loads[i] += cost
    return parts


def stage_seeds(stage: str, study: StudyParams, presets: PresetsParams) -> int:  # type: ignore[valid-type]
    """The training runs of one study stage: its family's seeds (variants.seeds_key); the architecture axis's by
    the architecture it sweeps, every other axis's the base MLP's."""
    name, _, item = stage.partition("@")
    family = presets.architectures[item].family if name == "study_architecture" else "mlp"
    return len(getattr(study, seeds_key(family)))


def partition_wave2(stages: list[str], n: int) -> list[list[str]]:
    """The second wave's stages (the factorial's points) among `stages` in n disjoint sets, round robin by point:
    every point costs about the same, and the first points are the ones a smaller design trains."""
    if n < 1:
        raise FerError(f"fan-out: {n} workers asked for; give --of 1 or more")
    points = sorted((s for s in stages if kind_of(s) == "factorial"), key=lambda s: int(s.split("@")[1]))
    return [points[i::n] for i in range(n)]


def plan(stale: list[str], study: StudyParams, presets: PresetsParams, data: str) -> tuple[list[str], float]:  # type: ignore[valid-type]
    """Lines describing the out-of-date stages per kind, and the expected total seconds. A factorial point's
    runs depend on the architecture choose picks, so they are counted as at most an MLP's seeds each."""
    counts = Counter(kind_of(s) for s in stale)
    runs = {"baseline": int("train" in stale), "recipe": int("train_cnn" in stale),
            "study": sum(stage_seeds(s, study, presets) for s in stale if kind_of(s) == "study"),
            "factorial": counts["factorial"] * max(len(study.seeds), len(study.cnn_seeds))}
    lines, total = [], 0.0
    for kind in ("data", "baseline", "recipe", "study", "factorial", "summary"):
        if not counts[kind]:
            continue
        per_stage = runs[kind] / COST_SEEDS if kind == "study" else counts[kind]
        seconds = per_stage * COST_S[kind][data]
        total += seconds
        upto = "up to " if kind == "factorial" else ""
        trained = f", {upto}{runs[kind]} training run{'s' * (runs[kind] != 1)}" if runs.get(kind) else ""
        lines.append(f"  {TITLES[kind]}: {counts[kind]} stage{'s' * (counts[kind] != 1)}{trained}, ~{minutes(seconds)}")
    return lines, total


def minutes(seconds: float) -> str:
    """A duration for people: seconds under two minutes, else minutes."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def main() -> None:
    from dvc.repo import Repo

    from fer_pipeline.data.sources import resolve_source

    pf = ParamsFile("params.yaml")
    kind, path = resolve_source(pf.section(DataParams, "data"))
    data = "synthetic" if kind == "synthetic" else "real"
    with Repo(".") as repo:
        stale = sorted(repo.status())
    if not stale:
        print("make study: every stage is up to date; nothing to run (dvc metrics show prints the results)")
        return
    lines, total = plan(stale, pf.section(StudyParams, "study"), pf.section(PresetsParams, "presets"), data)
    where = f"FER2013 from {path}" if data == "real" else "the synthetic stand-in (no FER2013 found; see README: Data)"
    print(f"make study: {len(stale)} stages to run on {where}:")
    print("\n".join(lines))
    print(f"expected: about {minutes(total)} on a 2-core CPU (per-stage costs measured on the reference machine, "
          "tools/plan.py); the baseline runs first, so metrics/evaluate/baseline.json is ready in minutes. "
          "Ctrl-C stops; `make study` again resumes where it stopped.")


if __name__ == "__main__":
    cli.run(main)
