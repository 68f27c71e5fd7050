"""The study report: Markdown written from the statistics (no hard-coded conclusions) and its figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from fer_pipeline import CLASSES, paths  # noqa: E402
from fer_pipeline.analysis.bootstrap import HIGHER, LOWER, NO_DIFFERENCE, verdict  # noqa: E402
from fer_pipeline.analysis.variants import FACTORIAL, study_families, trained  # noqa: E402
from fer_pipeline.axes import AXES, by_name  # noqa: E402
from fer_pipeline.data.dataset import data_label  # noqa: E402
from fer_pipeline.io import read_json  # noqa: E402
from fer_pipeline.metrics import CHANCE  # noqa: E402
from fer_pipeline.plots import confusion_figure, save_figure  # noqa: E402
from fer_pipeline.training.results import read_history  # noqa: E402

QUESTIONS = {a.family: a.question for a in AXES}  # each family's question (fer_pipeline.axes)


def fmt(x: float) -> str:
    """A score with three decimals."""
    return f"{x:.3f}"


def ci(pair: list[float]) -> str:
    """A 95% interval as [lo, hi]."""
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def signed(x: float) -> str:
    """A difference with its sign."""
    return f"{x:+.3f}"


def holm_ci(d: dict[str, Any]) -> str:
    """A comparison's Holm-adjusted interval (bootstrap.holm_interval): it excludes 0 exactly when the verdict
    beside it is significant, so the page never shows an interval that contradicts its verdict."""
    return ci(d["ci_holm"])


def diff_cell(d: dict[str, Any] | None) -> str:
    """Δ [Holm-adjusted CI] and the Holm-adjusted p, * when significant after adjustment."""
    if d is None:
        return "control"
    return f"{signed(d['difference'])} {holm_ci(d)} p_Holm={d['p_holm']:.3f}{' *' if d['significant_holm'] else ''}"


def axis_table(axis: str, stats: dict[str, Any]) -> str:
    """Markdown table of an axis family, control first: mean +- sd over seeds, 95% CI (seeds and test images),
    and the paired difference to the control in macro recall and in accuracy."""
    a = stats["axes"][axis]
    rows = ["| variant | macro recall (mean ± sd) | 95% CI | macro F1 | accuracy | vs control: Δ macro recall [Holm-adjusted CI] "
            "| vs control: Δ accuracy [Holm-adjusted CI] | detectable Δ macro recall |",
            "|---|---|---|---|---|---|---|---|"]
    for name in a["family"]:
        v = stats["variants"][name]
        r, f, acc = v["macro_recall"], v["macro_f1"], v["accuracy"]
        d = a["versus_control"].get(name)
        cells = ("degenerate: left out", "") if name in a["degenerate"] else (
            (diff_cell(None), diff_cell(None)) if d is None else (diff_cell(d["macro_recall"]), diff_cell(d["accuracy"])))
        own = detectable_cell(d["macro_recall"]) if d else ""
        rows.append(f"| {name} | {fmt(r['mean'])} ± {fmt(r['sd'])} | {ci(r['ci95'])} | {fmt(f['mean'])} ± {fmt(f['sd'])} "
                    f"| {fmt(acc['mean'])} ± {fmt(acc['sd'])} | {cells[0]} | {cells[1]} | {own} |")
    return "\n".join(rows + [""] + [method_note(a)] if a["versus_control"] else rows)


def detectable_cell(m: dict[str, Any]) -> str:
    """A comparison's own detectable difference and, where it misses the study's target (study.detect), the seeds
    it would need at its own noise (bootstrap.seeds_needed), or that seeds alone cannot get there."""
    if m.get("detectable") is None:
        return ""
    text = fmt(m["detectable"])
    if "target" in m and m["detectable"] > m["target"]:
        n = m["seeds_needed"]
        text += f" (needs {n} seeds)" if n else " (unreachable by seeds: the test images' shared noise alone exceeds it)"
    return text


def method_note(a: dict[str, Any]) -> str:
    """How an axis's differences were computed (bootstrap.family_contrasts): the seed noise pooled over the
    family or each pair's own, with the check that decided it, and what the detectable column means."""
    d = next(iter(a["versus_control"].values()))["macro_recall"]
    how = ({"pooled": f"pooled over the {len(a['versus_control']) + 1} variants",
            "per-pair": "each pair's own (not pooled)"}.get(d["method"], d["method"]))
    why = f" ({d['pooling']['reason']})" if "pooling" in d else ""
    target = f" Where it exceeds the study's target of {fmt(d['target'])} (study.detect), the seeds that comparison " \
             "would need at its own noise." if "target" in d else ""
    return (f"Seed noise of the macro-recall differences: {how}{why}. Detectable: the difference that comparison "
            "finds with 80% power after Holm within the axis." + target)


def axis_conclusion(axis: str, stats: dict[str, Any], choice: dict[str, Any], control: dict[str, Any] | None = None) -> str:
    """What the numbers support on one axis: which values differ from the control after Holm, which do not,
    which are degenerate, and choose's validation pick (the only "best" the study names)."""
    a = stats["axes"][axis]
    by = {HIGHER: [], LOWER: [], NO_DIFFERENCE: []}
    for name, d in a["versus_control"].items():
        by[verdict(d["macro_recall"])].append(name)
    parts = []
    if by[HIGHER]:
        parts.append(f"{', '.join(by[HIGHER])} significantly above it")
    if by[LOWER]:
        parts.append(f"{', '.join(by[LOWER])} significantly below it")
    if by[NO_DIFFERENCE]:
        parts.append(f"no difference from it shown for {', '.join(by[NO_DIFFERENCE])}")
    text = (f"Test macro recall against the control ({a['control']}), Holm-adjusted within the axis: "
            + ("; ".join(parts) if parts else "nothing compared") + ".")
    if a["degenerate"]:
        text += f" {chance_note(a['degenerate'])}"
    if axis in choice.get("chosen", {}):
        picked = choice["chosen"][axis]
        text += f" Chosen on validation (choose): {base_label(axis, control) if picked == 'base' else picked}."
    return text


def base_label(factor: str, control: dict[str, Any] | None) -> str:
    """The base's own value of a factor, e.g. "the base (relu)", from the base run's model/train settings."""
    axis = by_name().get(factor)
    if not control or axis is None or not axis.factor:
        return "the base"
    m, t = control["model"], control["train"]
    fields = {**m, **t, "widths": m.get("hidden", m.get("channels"))}
    value = fields[axis.field.split(".")[1]] if axis.kind == "value" else None
    return f"the base ({axis.label.format(value=value, **fields)})"


def chance_note(names: list[str]) -> str:
    """Names the variants whose every seed sits at chance validation macro recall (they learned to predict one
    class); validation decides it (stats.degenerate), so test never shapes a family."""
    verb, who = ("stays", "it") if len(names) == 1 else ("stay", "they")
    return (f"{', '.join(names)} {verb} at chance macro recall (1/{len(CLASSES)} = {fmt(CHANCE)}) in every seed on "
            f"validation: {who} "
            f"learned to predict essentially one class, so {who} {'is' if len(names) == 1 else 'are'} flagged degenerate "
            "and left out of the comparisons.")


def depth_conclusion(stats: dict[str, Any]) -> str:
    """The depth x activation interaction contrasts, each with its interval, Holm-adjusted within the family."""
    inter = stats["depth_interaction"]
    ref = inter["reference"]
    lines = [f"Interaction contrast = (activation at depth d − at depth 1) − ({ref} at depth d − {ref} at depth 1): "
             "positive when deepening helps that activation more than it helps the reference.", "",
             "| contrast | Δ macro recall [Holm-adjusted CI] | p_Holm | verdict |", "|---|---|---|---|"]
    for label, c in inter["contrasts"].items():
        lines.append(f"| {label} | {signed(c['difference'])} {holm_ci(c)} | {c['p_holm']:.3f} | {verdict(c)} |")
    shown = [k for k, c in inter["contrasts"].items() if c["significant_holm"]]
    lines += ["", ("Activations differ more (or less) with depth for: " + ", ".join(shown) + "." if shown else
                   "No interaction between depth and activation is shown: the data do not support the claim that "
                   "deeper nets make activation differences show.")]
    if inter["excluded"]:
        lines[-1] += f" Left out because a cell is degenerate (at chance on validation in every seed): {', '.join(inter['excluded'])}."
    return "\n".join(lines)


def replication_section(replication: dict[str, Any]) -> str:
    """The significant axis comparisons retrained at fresh seeds (analysis.replicate): each with the study's
    verdict, the fresh comparison and the outcome; or why nothing was retrained."""
    if replication["skipped"]:
        return (f"Not run: {replication['skipped']}. To run it, give fresh seeds, e.g. "
                "`dvc exp run -S 'study.replicate_seeds=[9,10,11,12,13]'`: every comparison significant after Holm is "
                "retrained at those seeds (a CNN at as many as it has) and compared again on the same test images.")
    rows = ["| comparison | study verdict | fresh seeds | fresh Δ macro recall [Holm-adjusted CI] | outcome |",
            "|---|---|---|---|---|"]
    for r in replication["comparisons"]:
        f = r["fresh"]
        rows.append(f"| {r['variant']} vs {r['control']} | {r['verdict']} | {', '.join(map(str, f['seed_ids']))} | "
                    f"{signed(f['difference'])} {holm_ci(f)} | {r['outcome']} |")
    counts = ", ".join(f"{n} {o}" for o, n in replication["counts"].items())
    return ("Every axis comparison significant after Holm, retrained at seeds the study did not use and compared "
            "again on the same test images (Holm over the replicated comparisons): replicated when the fresh seeds "
            "show the same direction after Holm, not replicated otherwise (reversed when they show the opposite). "
            f"Outcomes: {counts}.\n\n" + "\n".join(rows))


def levels_text(levels: dict[str, str]) -> str:
    """A factorial point's levels: each factor's pick or "base"."""
    return ", ".join(f"{f}={v}" for f, v in levels.items()) or "every factor at the base's value"


def factorial_section(stats: dict[str, Any], design: dict[str, Any]) -> str:
    """The factorial at the chosen architecture: its points, the fit on validation (each effect against the pooled
    seed noise, and whether it enters the model) and the same effects on test, Holm-adjusted within the factorial."""
    arch, factors = design["architecture"], design["factors"]
    if not factors:
        return f"No factorial: {design['why']} ({arch})."
    kind = "full" if len(design["points"]) == 2 ** len(factors) else "half-fraction (resolution IV, I = +" + "".join(
        f[0].upper() for f in factors) + ")"
    fit = design["fit"]
    lines = [f"Every carried factor whose one-factor pick is not the base's value ({', '.join(factors)}) is measured "
             f"again at the chosen architecture, {arch}, at two levels (the base's value and the pick), in a {kind} "
             f"two-level design of {len(design['points'])} configurations paired by seed. A configuration that is an "
             "existing run (the architecture alone) is not trained again. Fitted on validation macro recall: each "
             f"effect is the mean over its + points minus the mean over its − points, with the seed noise pooled over "
             f"the effects ({fit['df']} degrees of freedom); a term enters the model when |t| > {fit['keep_bound']:.2f} "
             "(two-sided 10%).", "",
             "| point | levels | valid macro recall (mean) | fitted | test macro recall (mean) |", "|---|---|---|---|---|"]
    for p in design["points"]:
        v = stats["variants"][p["variant"]]
        lines.append(f"| {p['variant']} | {levels_text(p['levels'])} | {fmt(float(np.mean(p['valid_macro_recall'])))} | "
                     f"{fmt(p['fitted'])} | {fmt(v['macro_recall']['mean'])} |")
    tests = stats.get("factorial", {}).get("contrasts", {})
    lines += ["", "| effect | valid: estimate ± se | in the model | test: estimate [Holm-adjusted CI] | test verdict |",
              "|---|---|---|---|---|"]
    for name, e in fit["effects"].items():
        c = tests.get(name)
        lines.append(f"| {name} | {signed(e['effect'])} ± {fmt(e['se'])} | {'yes' if e['kept'] else 'no'} | "
                     f"{(signed(c['difference']) + ' ' + holm_ci(c)) if c else 'left out'} | {verdict(c) if c else ''} |")
    shown = [k for k, c in tests.items() if c["significant_holm"]]
    lines += ["", "On test, " + ("the effects shown after Holm: " + ", ".join(shown) + "." if shown else
                                 "no effect of the factorial is shown after Holm.")]
    return "\n".join(lines)


def integrated_section(stats: dict[str, Any], design: dict[str, Any]) -> str:
    """The integrated model (design.json's best point) and its comparisons on test, paired by seed, against the
    base, the best single variant on validation and the chosen architecture alone."""
    name = design["integrated"]["variant"]
    v = stats["variants"][name]["macro_recall"]
    lines = [f"Built on validation macro recall (never test): {name}, {levels_text(design['integrated']['levels'])} at "
             f"{design['architecture']} ({design['why']}). It is a point of the design, trained once with its seeds "
             f"({', '.join(map(str, stats['variants'][name]['seed_ids']))}): test macro recall {fmt(v['mean'])} ± "
             f"{fmt(v['sd'])}, 95% CI {ci(v['ci95'])}.", ""]
    versus = stats["integrated"]["versus"]
    if versus:
        lines += ["| against | Δ macro recall (integrated − other) [Holm-adjusted CI] | Δ accuracy [Holm-adjusted CI] | seeds |",
                  "|---|---|---|---|"]
        for label, d in versus.items():
            who = label if label == d["against"] else f"{label} ({d['against']})"
            lines.append(f"| {who} | {diff_cell(d['macro_recall'])} | {diff_cell(d['accuracy'])} | "
                         f"{', '.join(map(str, d['macro_recall']['seed_ids']))} |")
    best = versus.get("best single variant")
    if best is None:
        return "\n".join([*lines, "", f"The integrated model, {name}, is itself the best single variant on validation "
                                        "(or the base): there is no other single variant for it to beat."])
    word = {HIGHER: "wins: it is significantly above", LOWER: "loses: it is significantly below",
            NO_DIFFERENCE: "does not win: no difference is shown from"}[verdict(best["macro_recall"])]
    lines += ["", f"The integrated model {word} {best['against']}, the best single variant on validation "
                  f"({signed(best['macro_recall']['difference'])}, Holm-adjusted CI {holm_ci(best['macro_recall'])})."]
    return "\n".join(lines)


def claims_section(stats: dict[str, Any], choice: dict[str, Any], control: dict[str, Any] | None = None,
                   stopping: dict[str, Any] | None = None) -> str:
    """The original team's claims, each answered from the numbers."""
    name = {"base": base_label("activation", control)}
    valid = {name.get(k, k): float(np.mean(x)) for k, x in choice["valid_macro_recall"].get("activation", {}).items()}
    test = {name.get(v, v): stats["variants"][n]["macro_recall"]["mean"]
            for n in stats["axes"]["activation"]["family"] for v in [stats["variants"][n]["value"]]}
    top_valid, top_test = max(valid, key=valid.get), max(test, key=test.get)
    ranked = ", ".join(f"{k} {fmt(valid[k])}/{fmt(test[k])}" for k in valid)
    leaky = stats["axes"]["activation"]["versus_control"].get("activation-leaky_relu")
    leaky_text = (f" leaky_relu against {name['base']} on test: {diff_cell(leaky['macro_recall'])} ({verdict(leaky['macro_recall'])})."
                  if leaky else "")
    a = (f"**(a) leaky_relu best on validation, relu on test.** Seed-mean macro recall, validation/test: {ranked}. "
         f"Highest on validation: {top_valid}; on test: {top_test}.{leaky_text} A ranking of seed means is not a verdict: "
         "only a difference whose interval excludes zero after Holm is one.")
    c = ("**(c) deeper nets make activation differences show.** See the depth × activation section: " +
         ("an interaction is shown for " + ", ".join(k for k, x in stats["depth_interaction"]["contrasts"].items() if x["significant_holm"])
          if any(x["significant_holm"] for x in stats["depth_interaction"]["contrasts"].values())
          else "no interaction is shown.") if "depth_interaction" in stats else "")
    changed = [f"{n} vs {a_['control']} ({verdict(d['macro_recall'])} by macro recall, {verdict(d['accuracy'])} by accuracy)"
               for a_ in stats["axes"].values() for n, d in a_["versus_control"].items()
               if verdict(d["macro_recall"]) != verdict(d["accuracy"])]
    d = ("**(d) ranking by recall instead of accuracy.** " +
         ("The verdict changes for: " + "; ".join(changed) + "." if changed else
          "No axis verdict changes when accuracy replaces macro recall."))
    b = more_epochs_claim(stats, stopping, name["base"]) if stopping else ""
    return "\n\n".join(x for x in (a, b, c, d) if x)


def cap_sentence(stopping: dict[str, Any]) -> str:
    """Whether the epoch cap cut any run (stats.stopping): none, or which, with what to change."""
    cap = stopping["max_epochs"]
    if not stopping["capped"]:
        return (f"No run reached the cap of {cap} epochs (the longest trained {stopping['most_epochs']}): patience "
                "alone stopped every run, so no verdict depends on the cap.")
    return (f"{len(stopping['capped'])} of {stopping['runs']} runs reached the cap of {cap} epochs before patience "
            f"stopped them ({', '.join(stopping['capped'])}): their variants' verdicts depend on the cap; raise "
            "study.train.max_epochs.")


def more_epochs_claim(stats: dict[str, Any], stopping: dict[str, Any], base: str) -> str:
    """Claim (b), that tanh would win with more epochs: every run trains until patience stops it (cap_sentence says
    whether the cap ever did instead), so the activation axis is that comparison, answered by its verdict."""
    d = stats["axes"]["activation"]["versus_control"].get("activation-tanh")
    answer = (f"tanh against {base} on test: {diff_cell(d['macro_recall'])} ({verdict(d['macro_recall'])})." if d else
              "tanh is not compared on the activation axis (not in study.activations, or degenerate).")
    return ("**(b) with more epochs tanh would be best.** The study trains every run until patience stops it. "
            + cap_sentence(stopping) + " The activation axis is therefore the comparison with more epochs, and no "
            "run is trained twice for it. " + answer)


def training_table(stats: dict[str, Any]) -> str:
    """Per variant, how its seeds' training ended (stats.load_training, from training and validation only): the
    epochs trained and the kept (best valid-loss) epoch, as min-max over seeds, and how many patience stopped."""
    rows = ["| variant | epochs trained | kept epoch | stopped by patience |", "|---|---|---|---|"]
    for name, v in stats["variants"].items():
        span = lambda xs: f"{min(xs)}" if min(xs) == max(xs) else f"{min(xs)}-{max(xs)}"  # noqa: E731
        rows.append(f"| {name} | {span(v['epochs_trained'])} | {span(v['best_epoch'])} | "
                    f"{sum(r == 'patience' for r in v['stop_reason'])} of {len(v['stop_reason'])} |")
    return "\n".join(rows)


def axis_figure(axis: str, names: list[str], stats: dict[str, Any], label: str) -> Figure:
    """Mean test macro recall of each variant of a family with its 95% interval, and each seed as a dot."""
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(names) + 2), 3.8))
    for i, n in enumerate(names):
        r = stats["variants"][n]["macro_recall"]
        ax.errorbar(i, r["mean"], yerr=[[r["mean"] - r["ci95"][0]], [r["ci95"][1] - r["mean"]]], fmt="o", color="tab:blue",
                    capsize=4, label="mean, 95% CI (seeds and images)" if i == 0 else None)
        ax.scatter([i] * len(r["per_seed"]), r["per_seed"], s=10, color="gray", label="one seed" if i == 0 else None, zorder=3)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("test macro recall (fraction)")
    ax.set_title(f"{axis}: test macro recall per variant [{label}]", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def curves_figure(axis: str, histories: dict[str, list[Any]], label: str) -> Figure:
    """Valid loss per epoch: one colour per variant, one line per seed, seeds overlaid."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (name, runs) in enumerate(histories.items()):
        color = plt.cm.tab10(i % 10)
        for j, h in enumerate(runs):
            ax.plot(h["epoch"], h["valid/loss"], color=color, alpha=0.8, lw=1, label=name if j == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("valid cross-entropy loss (per image)")
    ax.set_title(f"{axis}: valid loss per epoch, seeds overlaid [{label}]", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def recall_heatmap(stats: dict[str, Any], label: str) -> Figure:
    """Per-class test recall (mean over seeds) of every variant."""
    names = list(stats["variants"])
    m = np.array([[stats["variants"][n]["recall_per_class"][c] for c in CLASSES] for n in names])
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(names) + 1.8))
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    for i in range(len(names)):
        for j in range(len(CLASSES)):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6, color="white" if m[i, j] < 0.5 else "black")
    fig.colorbar(im, ax=ax, label="test recall (fraction of the class)")
    fig.suptitle(f"Per-class test recall, mean over seeds [{label}]", fontsize=10)
    fig.tight_layout()
    return fig


def describe(control: dict[str, Any]) -> str:
    """The base run's settings in one line."""
    m, t = control["model"], control["train"]
    net = f"MLP hidden {m['hidden']}" if m["family"] == "mlp" else f"CNN channels {m['channels']}"
    return (f"{net}, {m['activation']}, dropout {m['dropout']}, batch norm {m['batch_norm']}; {t['optimizer']} lr {t['lr']:g}, "
            f"batch {t['batch_size']}, imbalance {t['imbalance']}, at most {t['max_epochs']} epochs, patience {t['patience']}")


def detectable_sentence(stats: dict[str, Any], seeds: int) -> str:
    """What the study cannot detect: the smallest difference found with 80% power at its seed count."""
    d = stats.get("detectable")
    if not d:
        return "With one seed the training noise is unknown, so no difference is called significant."
    return (f"With {seeds} seeds a difference in macro recall smaller than about {fmt(d['macro_recall'])} "
            "(the median over comparisons of each one's own detectable difference, (t(1 − 0.05/(2m)) + t(0.80)) times "
            "its standard error for a family of m) is found less than 80% of the time after Holm: a difference that "
            "is not shown is not shown to be absent.")


def write_markdown(path: Path, stats: dict[str, Any], choice: dict[str, Any], design: dict[str, Any], label: str,
                   figures: dict[str, str], compute: dict[str, Any], control: dict[str, Any] | None = None,
                   replication: dict[str, Any] | None = None) -> str:
    """The whole report as Markdown; every number and sentence comes from stats.json, choice.json and
    design.json."""
    full = stats["test"]
    seeds = stats["seeds"]
    out = [f"# FER2013 study report [{label}]", "",
           f"Data: {label}. Each MLP configuration was trained once per seed ({', '.join(map(str, seeds))}), each CNN "
           f"configuration once per seed of {', '.join(map(str, stats['cnn_seeds']))} (a CNN pairs with an MLP on the "
           "seeds they share); the base is every axis's control and is trained once. A variant's 95% interval counts "
           "both sources of noise: the spread over seeds (training) and the spread over "
           f"{stats['bootstrap_resamples']} bootstrap resamples of the {full['test_images']} test images (the same "
           "resamples for every variant), as mean ± t(0.975, seeds − 1) · "
           "√(sd²/seeds + SE_images²). A difference is paired by seed and by image, with standard error "
           "√(σ²/seeds + τ²): σ² the seed-to-seed variance of the paired difference, pooled over the family's variants "
           "(variant × seed fit, (variants − 1)(seeds − 1) degrees of freedom) unless their spreads differ too much, "
           "then the pair's own (seeds − 1); τ² only the test-image noise the seeds share (the rest is already in σ²). "
           "Each axis compares its values with the control, fixed before test was read; p-values are Holm-adjusted "
           "within the axis, * marks a difference significant after adjustment, and a difference's interval is "
           "Holm-adjusted too (at the level Holm tested it at), so it excludes 0 exactly when starred. "
           f"{detectable_sentence(full, len(seeds))}", "",
           f"Compute: {compute['runs']} training runs, {compute['train_hours']:.2f} h of training wall time in total.", "",
           *([f"The control (base): {describe(control)}.", ""] if control else []),
           f"![per-class recall]({figures['heatmap']})", ""]
    for axis in full["axes"]:
        out += [f"## {axis}", "", f"**Question.** {QUESTIONS.get(axis, axis)}", "", axis_table(axis, full), "",
                f"**Conclusion.** {axis_conclusion(axis, full, choice, control)}", "",
                f"![{axis}]({figures[f'axis_{axis}']}) ![{axis} curves]({figures[f'curves_{axis}']})", ""]
    if "depth_interaction" in full:
        out += ["## depth × activation", "", f"**Question.** {QUESTIONS['depth_activation']}", "", depth_conclusion(full), "",
                f"![depth]({figures['axis_depth_activation']}) ![depth curves]({figures['curves_depth_activation']})", ""]
    out += ["## Factorial at the chosen architecture: the carried picks together", "", factorial_section(full, design), "",
            "## Integrated model", "", integrated_section(full, design), "",
            f"![integrated confusion]({figures['integrated_confusion']})", ""]
    if replication is not None:
        out += ["## Replication at fresh seeds", "", replication_section(replication), ""]
    out += ["## Training length", "", "Each run trains until patience stops it (no valid-loss improvement for "
            f"{control['train']['patience'] if control else 'patience'} epochs) and keeps its best epoch. "
            + cap_sentence(stats["stopping"]), "", training_table(full), ""]
    dis = stats["dedup_disagreements"]
    out += ["## Full and deduplicated test sets", "",
            f"The deduplicated test set keeps the {stats['test_dedup']['test_images']} test images without a twin in "
            "train. " + ("Verdicts that differ between the two: " + "; ".join(dis) + "." if dis else
                         "Every axis verdict is the same on both test sets."), ""]
    if "activation" in full["axes"]:
        out += ["## The original team's claims", "", claims_section(full, choice, control, stats["stopping"]), ""]
    text = "\n".join(out) + "\n"
    path.write_text(text)
    return text


def write_report(study: Any) -> str:
    """The report stage: statistics, choice, design and training logs -> reports/study.md with its figures beside
    it; returns the line the stage prints."""
    stats, choice, design, label = read_json(paths.STATS), read_json(paths.CHOICE), read_json(paths.DESIGN), data_label()
    families, out = study_families(study, choice), paths.REPORTS
    full = stats["test"]
    seeds = {name: v["seed_ids"] for name, v in full["variants"].items()}  # each variant's, as stats loaded them
    figures = {"heatmap": "recall_heatmap.png", "integrated_confusion": "integrated_confusion.png"}
    save_figure(recall_heatmap(full, label), out / figures["heatmap"])
    for axis, vs in families.items():
        if axis in ("base", FACTORIAL):  # the factorial is tables of its own
            continue
        figures[f"axis_{axis}"], figures[f"curves_{axis}"] = f"axis_{axis}.png", f"curves_{axis}.png"
        save_figure(axis_figure(axis, [v.name for v in vs], full, label), out / figures[f"axis_{axis}"])
        histories = {v.name: [read_history(v.run(s)) for s in seeds[v.name]] for v in vs}
        save_figure(curves_figure(axis, histories, label), out / figures[f"curves_{axis}"])
    integrated = trained(families)[design["integrated"]["variant"]]
    cm = sum(np.asarray(read_json(paths.report_file(integrated.run(s)))["confusion"]) for s in seeds[integrated.name])
    save_figure(confusion_figure(cm, f"integrated model: test confusion, all seeds, row-normalized [{label}]"),
                out / figures["integrated_confusion"])
    records = {v.run(s): read_json(paths.run_file(v.run(s))) for v in trained(families).values()
               for s in seeds[v.name]}  # each run.json read once
    compute = {"runs": len(records), "train_hours": sum(r["wall_time_s"] for r in records.values()) / 3600}
    control = families["base"][0]
    base = records[control.run(seeds[control.name][0])]
    write_markdown(paths.STUDY_REPORT, stats, choice, design, label, figures, compute,
                   control={"model": base["model"], "train": base["train"]}, replication=read_json(paths.REPLICATION))
    return (f"report [{label}]: wrote {paths.STUDY_REPORT} and {len(figures)} figures")
