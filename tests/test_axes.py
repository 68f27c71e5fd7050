"""fer_pipeline.axes: the registry is the one home of an axis. An axis added to AXES alone (and given values in
params.yaml) is a study key, a base value, a family of variants, a choose factor, a factor of the factorial, a
compared axis in stats and a question in the report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import yaml

from fer_pipeline.axes import AXES, CARRIED, FACTORS, replaced

from .conftest import ROOT

TOY = '''
AXES = (*AXES, Axis("smoothing", "smoothings", "value", "Does label smoothing raise macro recall?",
                    field="train.label_smoothing", factor=True, carried=True, label="smoothing {value}"))
FACTORS = factors(AXES)
CARRIED = tuple(a.name for a in AXES if a.carried)
'''

# Runs in the temporary copy: everything below reads the registry only through the copy's fer_pipeline.
PROBE = '''
import json, sys
from pathlib import Path
import numpy as np
from fer_pipeline.analysis.choose import choice_record, study_and_presets
from fer_pipeline.params import ParamsFile
from fer_pipeline.analysis.report import write_markdown
from fer_pipeline.analysis.stats import study_stats
from fer_pipeline.analysis.design import design_record
from fer_pipeline.analysis.variants import model_and_train, study_families, study_variants, trained, variant_seeds

pf = ParamsFile("params.yaml")
study, presets = study_and_presets(pf)
families = study_variants(study)
_, smoothed = model_and_train(pf, "study", ["smoothing=0.1"], None, ["train.seed=0"])
_, base = model_and_train(ParamsFile("params.yaml"), "study", [], None, ["train.seed=0"])
root = Path("runs")
for v in trained(families).values():  # validation: the smoothed run is best of its axis
    for s in variant_seeds(v, study, presets):
        d = root / "metrics/train" / v.run(s)
        d.mkdir(parents=True, exist_ok=True)
        (d / "metrics.json").write_text(json.dumps({"valid": {"macro_recall": 0.6 if v.name == "smoothing-0.1" else 0.3}}))
choice = choice_record(study, presets, root)
rng = np.random.default_rng(0)
y = rng.integers(0, 7, 500)
fams = study_families(study, choice)
seeds = {n: variant_seeds(v, study, presets) for n, v in trained(fams).items()}
runs = {n: [(y, np.where(rng.random(len(y)) < 0.5, y, (y + 1) % 7)) for _ in seeds[n]] for n in seeds}
training = {n: {"valid_macro_recall": [0.3] * len(r), "epochs_trained": [5] * len(r), "best_epoch": [2] * len(r),
                 "stop_reason": ["patience"] * len(r)} for n, r in runs.items()}
points = fams["factorial"]
design = design_record(choice, [[0.6 if v.name == "smoothing-0.1" else 0.3] * len(study.seeds) for v in points],
                       [v.name for v in points])
test = study_stats(fams, runs, 200, study, choice["best_single"], training, seeds, design)
stats = {"seeds": list(study.seeds), "cnn_seeds": list(study.cnn_seeds), "bootstrap_resamples": 200,
         "stopping": {"max_epochs": 60, "runs": 3, "capped": [], "most_epochs": 5},
         "test": test, "test_dedup": test, "dedup_disagreements": []}
figures = type("Figures", (dict,), {"__missing__": lambda self, key: key + ".png"})()
text = write_markdown(Path("study.md"), stats, choice, design, "SYNTHETIC", figures, {"runs": 1, "train_hours": 0.1},
                      control={"model": {"family": "mlp", "hidden": [256], "activation": "relu", "dropout": 0.0,
                                         "batch_norm": False},
                               "train": {**vars(base), "optimizer": "adam", "lr": 0.001}})
print(json.dumps({"family": [v.name for v in families["smoothing"]], "smoothed": smoothed.label_smoothing,
                  "base": base.label_smoothing, "chosen": choice["chosen"].get("smoothing"),
                  "carried": choice["factorial"]["factors"], "integrated": design["integrated"]["variant"],
                  "axes": sorted(test["axes"]),
                  "report": ["## smoothing" in text, "Does label smoothing raise macro recall?" in text,
                             "Chosen on validation (choose): 0.1" in text]}))
'''


def test_a_toy_axis_added_to_the_registry_alone_reaches_every_consumer(tmp_path):
    """In a copy of the code whose only code change is one Axis appended to AXES (a label-smoothing factor,
    carried over), with its values in params.yaml (study.smoothings, study.base.smoothing; study.train then no
    longer holds label_smoothing), the study has the family [base, smoothing-0.1], a smoothing run trains with
    label smoothing 0.1 and the base with 0.0, choose picks the factor and puts it in the factorial, the design
    makes its pick the integrated model, stats compares it with the base, and the report asks its question and
    states the pick."""
    for folder in ("fer_pipeline", "stages"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    axes = tmp_path / "fer_pipeline/axes.py"
    text = axes.read_text()
    anchor = "\n\ndef replaced("
    axes.write_text(text.replace(anchor, "\n" + TOY + anchor, 1))
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["study"]["smoothings"] = [0.1]
    raw["study"]["base"]["smoothing"] = raw["study"]["train"].pop("label_smoothing")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path), "PATH": ""}, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["family"] == ["base", "smoothing-0.1"]
    assert (got["smoothed"], got["base"]) == (0.1, 0.0)
    assert got["chosen"] == "0.1" and got["carried"] == ["smoothing"]  # the factorial over the one carried pick
    assert got["integrated"] == "smoothing-0.1" and "smoothing" in got["axes"]
    assert got["report"] == [True, True, True]


def test_factors_and_carried_come_from_the_flags():
    """choose's factors are the axes flagged factor (the architecture first: it decides the family the others
    change), the factorial's are those flagged carried; a factor's value replaces its own base value, a grid's none."""
    assert FACTORS[0] == "architecture" and set(FACTORS) == {a.name for a in AXES if a.factor}
    assert CARRIED == tuple(a.name for a in AXES if a.carried) and set(CARRIED) <= set(FACTORS)
    assert all(replaced(a)[0] == a.name for a in AXES if a.factor)
    assert all(replaced(a) == () for a in AXES if not a.factor)
