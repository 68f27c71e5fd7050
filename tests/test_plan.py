"""tools.plan: `make study` states what it is about to run, its training runs and an expected time,
derived from the out-of-date stages and the study's seeds."""

from __future__ import annotations

import pytest
from dvc.repo import Repo

from fer_pipeline import FerError
from fer_pipeline.params import ParamsFile, StudyParams, load_params
from tools.plan import CHAINS, COST_S, COST_SEEDS, KINDS, WAVE1, kind_of, partition, plan

from .conftest import ROOT


def study() -> StudyParams:
    return ParamsFile(ROOT / "params.yaml").section(StudyParams, "study")


def test_every_stage_of_dvc_yaml_has_a_kind():
    """Each stage DVC resolves from dvc.yaml is counted under one kind (a new stage without one fails here)."""
    with Repo(str(ROOT)) as repo:
        names = [s.addressing for s in repo.index.stages]
    kinds = {kind_of(n) for n in names}
    assert kinds == set(COST_S)


def test_plan_counts_stages_runs_and_time():
    """A fresh clone's plan counts each kind's stages, the training runs (each study stage trains every seed of
    its family: the CNN study.cnn_seeds, an MLP study.seeds; a factorial point at most an MLP's) and sums the
    per-stage costs of the data it runs on, a study stage's scaled by its seeds (COST_S holds it at COST_SEEDS); the
    factorial is counted apart, at the chosen architecture's cost."""
    s, presets = study(), load_params(ROOT / "params.yaml").presets
    stale = ["data/dvc.yaml:fetch", "data/dvc.yaml:preprocess", "data/dvc.yaml:split", "train",  # as dvc status names them
             "evaluate", "plot", "study_base", "study_architecture@cnn",
             "study_factorial@1", "study_factorial@2", "choose", "design"]
    lines, total = plan(stale, s, presets, "synthetic")
    assert lines[0].startswith("  data: fetch, split, preprocess: 3 stages")
    assert "1 training run," in lines[1]
    assert f"study variants: 2 stages, {len(s.seeds) + len(s.cnn_seeds)} training runs" in lines[2]
    assert f"2 stages, up to {2 * len(s.seeds)} training runs" in lines[3]
    assert lines[4].startswith("  choose, design, stats, replicate, report, release: 2 stages")
    assert total == pytest.approx(3 * COST_S["data"]["synthetic"] + 3 * COST_S["baseline"]["synthetic"]
                                  + (len(s.seeds) + len(s.cnn_seeds)) / COST_SEEDS * COST_S["study"]["synthetic"]
                                  + 2 * COST_S["factorial"]["synthetic"]
                                  + 2 * COST_S["summary"]["synthetic"])
    assert plan(stale, s, presets, "real")[1] > total


def test_unknown_stage_kind_is_an_error():
    """A stage name plan.py does not know is a one-line error naming where to add it."""
    with pytest.raises(FerError, match="no kind in tools/plan.py KINDS"):
        kind_of("mystery")


def stage_names() -> list[str]:
    with Repo(str(ROOT)) as repo:
        return [s.name for s in repo.index.stages]


@pytest.mark.parametrize("n", [1, 2, 3, 8, 64])
def test_partition_covers_the_first_wave_once(n):
    """The n shares are disjoint and together hold exactly the first wave's stages (baseline, recipe, one-factor
    study); a chain (train, evaluate, plot) stays in one share, in its order; the same input gives the same shares."""
    names = stage_names()
    parts = partition(names, n, "real")
    assert len(parts) == n
    flat = [s for part in parts for s in part]
    assert len(flat) == len(set(flat))
    assert set(flat) == {s for s in names if kind_of(s) in WAVE1}
    for kind in CHAINS:
        holder = [part for part in parts if KINDS[kind][0] in part]
        assert [s for s in holder[0] if kind_of(s) == kind] == list(KINDS[kind])
    assert partition(list(reversed(names)), n, "real") == parts


def test_partition_balances_by_cost():
    """Longest processing time first: the recipe, the costliest unit, gets a share; every other share differs from
    the next by at most one study stage's cost, so the wall time is the recipe's or the study's even split."""
    names = stage_names()
    cost = {s: COST_S[kind_of(s)]["real"] for s in names}
    for n in (2, 4, 8):
        parts = partition(names, n, "real")
        others = [sum(cost[s] for s in part) for part in parts if part != list(KINDS["recipe"])]
        assert len(others) == (n if n == 2 else n - 1)  # with 2 the recipe's worker also takes study stages
        assert max(others) - min(others) <= COST_S["study"]["real"], (n, others)


def test_partition_needs_a_worker():
    """Zero workers is a one-line error naming the option."""
    with pytest.raises(FerError, match="--of"):
        partition(["study_base"], 0, "real")
