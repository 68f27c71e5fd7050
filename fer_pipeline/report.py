"""The study report: Markdown written from the statistics (no hard-coded conclusions) and its figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from fer_pipeline import CLASSES  # noqa: E402

QUESTIONS = {
    "activation": "Which activation function gives the best test macro recall, everything else equal?",
    "batch_size": "Which batch size?",
    "optimizer": "Which optimizer, each with its own learning rate?",
    "architecture": "Which MLP depth/width, dropout or batch norm, or the compact CNN?",
    "imbalance": "Does handling the class imbalance (class-weighted loss or a weighted sampler) raise macro recall?",
    "depth_activation": "Do activation functions differ more in deeper MLPs (the original reviewers' hypothesis)?",
}


def fmt(x: float) -> str:
    """A score with three decimals."""
    return f"{x:.3f}"


def ci(pair: list[float]) -> str:
    """A 95% interval as [lo, hi]."""
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def signed(x: float) -> str:
    """A difference with its sign."""
    return f"{x:+.3f}"


def axis_table(axis: str, stats: dict[str, Any]) -> str:
    """Markdown table of an axis: mean +- sd over seeds, 95% CI (seeds and test images), the paired difference to the best."""
    rows = ["| variant | macro recall (mean ± sd) | 95% CI | macro F1 | accuracy | vs best: Δ macro recall [95% CI] |",
            "|---|---|---|---|---|---|"]
    versus = stats["axes"].get(axis, {}).get("versus_best", {})
    for name, v in stats["variants"].items():
        if v["axis"] != axis:
            continue
        r, f, a = v["macro_recall"], v["macro_f1"], v["accuracy"]
        d = versus.get(name)
        diff = "best" if d is None else f"{signed(d['difference'])} {ci(d['ci95'])}{' *' if d['significant'] else ''}"
        rows.append(f"| {name} | {fmt(r['mean'])} ± {fmt(r['sd'])} | {ci(r['ci95'])} | {fmt(f['mean'])} ± {fmt(f['sd'])} "
                    f"| {fmt(a['mean'])} ± {fmt(a['sd'])} | {diff} |")
    return "\n".join(rows)


def axis_conclusion(axis: str, stats: dict[str, Any]) -> str:
    """One sentence the numbers support: the best value, which others are significantly worse, which are not."""
    a = stats["axes"][axis]
    best = stats["variants"][a["best"]]["macro_recall"]
    worse = [n for n, d in a["versus_best"].items() if d["significant"]]
    tied = [n for n, d in a["versus_best"].items() if not d["significant"]]
    head = f"{a['best']} has the highest mean test macro recall ({fmt(best['mean'])}, 95% CI {ci(best['ci95'])})"
    if not a["versus_best"]:
        return f"{a['best']} is the only value run on this axis (test macro recall {fmt(best['mean'])}, 95% CI {ci(best['ci95'])})."
    if not tied:
        return (f"{head} and is significantly better than every other value ({', '.join(worse)})."
                f"{chance_note(axis, stats)}")
    if not worse:
        return f"{head}, but no difference to it is significant ({', '.join(tied)}): on this axis the choice does not matter."
    return (f"{head}; {', '.join(tied)} {'is' if len(tied) == 1 else 'are'} not significantly different from it, "
            f"while {', '.join(worse)} {'is' if len(worse) == 1 else 'are'} significantly worse."
            f"{chance_note(axis, stats)}")


CHANCE = 1 / 7  # macro recall of always predicting one class


def chance_note(axis: str, stats: dict[str, Any]) -> str:
    """Names the variants whose every seed sits at chance macro recall (they learned to predict one class)."""
    flat = [n for n, v in stats["variants"].items() if v["axis"] == axis and max(v["macro_recall"]["per_seed"]) < CHANCE + 0.005]
    if not flat:
        return ""
    verb = "stays" if len(flat) == 1 else "stay"
    who = "it" if len(flat) == 1 else "they"
    return f" {', '.join(flat)} {verb} at chance macro recall (1/7 = 0.143) in every seed: {who} learned to predict essentially one class."


def depth_conclusion(stats: dict[str, Any]) -> str:
    """How the gap between the best and worst activation changes with depth, with its intervals."""
    parts = []
    for depth, d in stats["depth_spread"].items():
        verdict = "significant" if d["significant"] else "not significant"
        parts.append(f"depth {depth}: {d['best']} vs {d['worst']} {signed(d['difference'])} {ci(d['ci95'])} ({verdict})")
    gaps = [d["difference"] for d in stats["depth_spread"].values()]
    if len(gaps) == 1:
        return "Only one depth was run: " + "; ".join(parts) + "."
    trend = "grows" if gaps[-1] > gaps[0] else "does not grow"
    text = f"The best-minus-worst activation gap {trend} from the shallowest to the deepest net: " + "; ".join(parts) + "."
    variants = {n: v for n, v in stats["variants"].items() if v["axis"] == "depth_activation"}
    depths = list(stats["depth_spread"])
    per_act = []
    for name in variants:
        _, d, act = name.split("-", 2)
        if d == str(depths[0]):
            last = f"depth-{depths[-1]}-{act}"
            if last in variants:
                per_act.append(f"{act} {fmt(variants[name]['macro_recall']['mean'])} → {fmt(variants[last]['macro_recall']['mean'])}")
    if len(depths) > 1 and per_act:
        text += f" Mean test macro recall from depth {depths[0]} to depth {depths[-1]}: " + ", ".join(per_act) + "."
    return text + chance_note("depth_activation", stats)


def integrated_section(stats: dict[str, Any], choice: dict[str, Any]) -> str:
    """The integrated model's choice and its paired comparison with the base and every axis winner."""
    v = stats["variants"]["integrated"]["macro_recall"]
    lines = ["Chosen on validation macro recall (never test): " + ", ".join(f"{k} = {v}" for k, v in choice["chosen"].items()) + ".",
             "", f"Integrated model: test macro recall {fmt(v['mean'])} ± {fmt(v['sd'])} over seeds, 95% CI {ci(v['ci95'])}.",
             "", "| against | Δ macro recall (integrated − other) | 95% CI | significant |", "|---|---|---|---|"]
    for label, d in stats["integrated"].items():
        lines.append(f"| {label} ({d['against']}) | {signed(d['difference'])} | {ci(d['ci95'])} | {'yes' if d['significant'] else 'no'} |")
    base = stats["integrated"]["base"]
    verdict = ("significantly better than" if base["significant"] and base["difference"] > 0 else
               "significantly worse than" if base["significant"] else "not significantly different from")
    lines += ["", f"The integrated model is {verdict} the base ({signed(base['difference'])}, 95% CI {ci(base['ci95'])})."]
    beaten_by = [d["against"] for label, d in stats["integrated"].items()
                 if label != "base" and d["significant"] and d["difference"] < 0]
    if beaten_by:
        lines[-1] += (f" It is significantly worse than {', '.join(dict.fromkeys(beaten_by))}: combining the values chosen one "
                      "axis at a time did not beat the best single change.")
    return "\n".join(lines)


def axis_figure(axis: str, stats: dict[str, Any], label: str) -> Figure:
    """Mean test macro recall per variant with its 95% bootstrap interval, and each seed as a dot."""
    names = [n for n, v in stats["variants"].items() if v["axis"] == axis]
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(names) + 2), 3.8))
    for i, n in enumerate(names):
        r = stats["variants"][n]["macro_recall"]
        ax.errorbar(i, r["mean"], yerr=[[r["mean"] - r["ci95"][0]], [r["ci95"][1] - r["mean"]]], fmt="o", color="tab:blue",
                    capsize=4, label="mean, 95% bootstrap CI" if i == 0 else None)
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


def detectable_sentence(stats: dict[str, Any]) -> str:
    """What the study cannot detect: the smallest difference found with 80% power at its seed count."""
    d = stats.get("detectable")
    if not d:
        return "With one seed the training noise is unknown, so no difference is called significant."
    return (f"With {len(stats['seeds'])} seeds a difference in macro recall smaller than about {fmt(d['macro_recall'])} "
            "(the median comparison's standard error times t(0.975) + t(0.80)) is found less than 80% of the time: "
            "a difference that is not significant is not shown to be absent.")


def write_markdown(path: Path, stats: dict[str, Any], choice: dict[str, Any], label: str, figures: dict[str, str],
                   compute: dict[str, Any]) -> str:
    """The whole report as Markdown; every number and sentence comes from `stats`."""
    out = [f"# FER2013 study report [{label}]", "",
           f"Data: {label}. Each variant was trained once per seed ({', '.join(map(str, stats['seeds']))}); "
           "a 95% interval counts both sources of noise: the spread over seeds (training) and the spread over "
           f"{stats['bootstrap_resamples']} bootstrap resamples of the {stats['test_images']} test images (the same resamples "
           "for every variant), as mean ± t(0.975, seeds − 1) · √(sd²/seeds + SE_images²); differences are paired by "
           "seed and by image. A difference is called significant only when its interval excludes zero; * marks those. "
           f"{detectable_sentence(stats)}", "",
           f"Compute: {compute['runs']} training runs, {compute['train_hours']:.2f} h of training wall time in total.", "",
           f"![per-class recall]({figures['heatmap']})", ""]
    for axis in stats["axes"]:
        out += [f"## {axis}", "", f"**Question.** {QUESTIONS.get(axis, axis)}", "", axis_table(axis, stats), "",
                f"**Conclusion.** {depth_conclusion(stats) if axis == 'depth_activation' else axis_conclusion(axis, stats)}", "",
                f"![{axis}]({figures[f'axis_{axis}']}) ![{axis} curves]({figures[f'curves_{axis}']})", ""]
    if "integrated" in stats:
        out += ["## Integrated model", "", integrated_section(stats, choice), "", axis_table("integrated", stats), "",
                axis_table("base", stats), "", f"![integrated confusion]({figures['integrated_confusion']})", ""]
    text = "\n".join(out) + "\n"
    path.write_text(text)
    return text
