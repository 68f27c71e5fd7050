"""The documentation tells the truth about the repository.

README.md and docs/*.md (not docs/study/, a generated report) are scanned: fenced code blocks and
inline code spans for paths, `make` targets, DVC stage names, `python -m` modules and console
scripts; Markdown links for their targets. Nothing here runs DVC or touches the network.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from itertools import product
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 150

# Top-level folders whose contents a fresh clone does not have: pipeline outputs and local tool state.
# A path under them must be tracked by git, declared in dvc.yaml, supplied by the user, or allow-listed.
GENERATED_ROOTS = frozenset({"data", "metrics", "plots", "reports", "dvc_plots", ".venv", ".cache", "test-artifacts"})
# Generated locations dvc.yaml does not declare: written by a make target, a tool, or DVC itself.
GENERATED = frozenset({
    "dvc_plots/index.html",          # dvc plots show
    ".cache/vega",                   # python -m tools.plots_html
    "bench/results.json",            # make bench (git-ignored)
    "test-artifacts",                # CI's screenshots
    ".dvc/tmp/exps/celery",          # DVC's queue workers
    ".dvc/cache/runs",               # DVC's run-cache
    ".dvc/config.local",             # dvc remote modify --local
})
GENERATED_TREES = (".venv",)         # anything below the virtual environment
USER_SUPPLIED = ("data/raw/",)       # FER2013 goes here; accepted when the folder exists
# Files inside outputs that dvc.yaml declares as folders (key: fnmatch pattern of the declared folder).
# test_generated_file_names_are_still_written checks that the code (or dvc.yaml) still names each one.
FILES_IN_OUTPUT_DIRS = {
    "data/preprocess": ("normalization.json",),
    "data/split": ("indices.npz",),
    "data/train/*": ("model.pt", "run.json"),
    "data/evaluate/*": ("predictions.csv", "report.json", "scores.json"),
    "metrics/train/*": ("metrics.json", "plots/metrics"),   # DVCLive's layout
    "plots/*": ("curves.png", "confusion.png", "grid.png"),
}
# A study stage's output folders hold one run per seed (fer_pipeline.analysis.variants.run_name).
for _kind, _names in (("data/train", ("model.pt", "run.json")),
                      ("data/evaluate", ("predictions.csv", "report.json", "scores.json")),
                      ("metrics/train", ("metrics.json", "plots/metrics"))):
    for _root in ("study", "factorial"):
        FILES_IN_OUTPUT_DIRS[f"{_kind}/{_root}/*"] = ("s<seed>", *(f"s<seed>/{n}" for n in _names))
# A token with a slash is taken for a repo path when it starts at a repo root folder or names a source-like file;
# a token without one only when it names a source-like file (dvc.yaml, Makefile, ...).
SOURCE_SUFFIXES = (".py", ".md", ".yaml", ".yml", ".toml", ".lock", ".cfg", ".html")
TOP_LEVEL_NAMES = frozenset({"Makefile"})
# dvc options that take a value (so the next word is not a stage name).
DVC_VALUE_OPTIONS = frozenset({"-S", "--set-param", "-n", "--name", "-j", "--jobs", "-C", "--copy-paths",
                               "-m", "--message", "-r", "--remote"})
# Folders holding importable code; `python -m <pkg>.<mod>` with one of these must name a file in it.
CODE_PACKAGES = frozenset({"stages", "fer_pipeline", "bench", "tests"})

FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
INLINE = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
PATH_SPLIT = re.compile(r"[\s'\"`(),;=|:\[\]{}]+")
PLACEHOLDER = re.compile(r"(<[^<>/]*>|\*)")
SHELL_OPERATORS = frozenset({";", "&&", "||", "|", "&"})


# ---- reading the docs ----

def doc_files() -> list[Path]:
    """README.md and the hand-written pages in docs/ (docs/study/ is generated and not scanned)."""
    return [README, *sorted(DOCS.glob("*.md"))]


def code_chunks(text: str) -> list[str]:
    """The bodies of fenced code blocks, then every inline code span outside them."""
    chunks = [m.group(2) for m in FENCE.finditer(text)]
    prose = FENCE.sub("", text)
    return chunks + [m.group(2).strip() for m in INLINE.finditer(prose)]


def command_lines(chunk: str) -> Iterator[list[str]]:
    """Shell commands in a chunk as word lists: one per segment between ;, &&, ||, | (comments dropped)."""
    for line in chunk.replace("\\\n", " ").splitlines():
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lex.whitespace_split = True
        try:
            words = list(lex)
        except ValueError:  # unbalanced quotes in prose-like spans
            words = line.split("#")[0].split()
        segment: list[str] = []
        for word in [*words, ";"]:
            if word in SHELL_OPERATORS:
                if segment:
                    yield segment
                segment = []
            else:
                segment.append(word)


def program(words: list[str]) -> tuple[str, list[str]]:
    """The command's program name (without a .venv/bin/ prefix or VAR=value assignments) and its arguments."""
    i = 0
    while i < len(words) and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[i]):
        i += 1
    if i == len(words):
        return "", []
    return Path(words[i]).name, words[i + 1:]


def doc_texts() -> dict[str, str]:
    """{relative file name: text} of every scanned doc."""
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in doc_files()}


# ---- what the repository declares ----

@cache
def dvc_files() -> tuple[str, ...]:
    """The pipeline's dvc.yaml files that git tracks (dvc.yaml, data/dvc.yaml), relative to the root."""
    out = subprocess.run(["git", "ls-files", "dvc.yaml", "*/dvc.yaml"], cwd=ROOT, capture_output=True, text=True, check=True)
    return tuple(out.stdout.split())


@cache
def dvc_stages(dvcfile: str = "dvc.yaml") -> dict[str, dict]:
    """One dvc.yaml's stages by name."""
    return yaml.safe_load((ROOT / dvcfile).read_text())["stages"]


@cache
def params() -> dict:
    """params.yaml, for resolving matrix values."""
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def resolve(value: object) -> list:
    """A matrix dimension's values: a list, or a ${a.b} reference into params.yaml."""
    if isinstance(value, str) and (m := re.fullmatch(r"\$\{([\w.]+)\}", value)):
        node: object = params()
        for key in m.group(1).split("."):
            node = node[key]  # type: ignore[index]
        value = node
    return list(value) if isinstance(value, list) else [value]


def matrix_names(stage: dict) -> set[str]:
    """The `@` suffixes DVC gives a matrix stage's instances: the values joined with '-'."""
    dims = [resolve(v) for v in stage["matrix"].values()]
    return {"-".join(str(v) for v in combo) for combo in product(*dims)}


@cache
def declared_outputs() -> tuple[str, ...]:
    """Every outs/metrics/plots path in the dvc.yaml files, with ${...} interpolations left in."""
    found = []
    for stage in (stage for dvcfile in dvc_files() for stage in dvc_stages(dvcfile).values()):
        for section in ("outs", "metrics", "plots"):
            for entry in stage.get(section, []):
                found += list(entry) if isinstance(entry, dict) else [entry]
    return tuple(found)


@cache
def output_candidates() -> tuple[tuple[str, re.Pattern], ...]:
    """(sample string, regex) for every declared output, each known file inside a declared folder, and their parents."""
    paths: set[str] = set()
    for out in declared_outputs():
        out = out.rstrip("/")
        paths.add(out)
        sample = re.sub(r"\$\{[^}]*\}", "x", out)
        for folder, names in FILES_IN_OUTPUT_DIRS.items():
            if fnmatch.fnmatch(sample, folder):
                paths.update(f"{out}/{name}" for name in names)
        parts = out.split("/")
        paths.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return tuple((re.sub(r"\$\{[^}]*\}", "x", p), re.compile(interpolation_regex(p))) for p in sorted(paths))


def interpolation_regex(path: str) -> str:
    """A declared path as a regex: each ${...} (and each <name> of FILES_IN_OUTPUT_DIRS, such as s<seed>) stands for
    one path component's worth of text."""
    return "".join("[^/]+" if part.startswith(("${", "<")) else re.escape(part)
                   for part in re.split(r"(\$\{[^}]*\}|<[^>]+>)", path))


def placeholder_regex(path: str) -> str:
    """A documented path as a regex: <name> stands for any text, * for any text within one component."""
    out = []
    for part in PLACEHOLDER.split(path):
        out.append(".+" if part.startswith("<") else "[^/]*" if part == "*" else re.escape(part))
    return "".join(out)


@cache
def tracked_files() -> frozenset[str]:
    """Files git tracks (with every parent folder); empty when git is unavailable."""
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return frozenset()
    names = set()
    for name in out.splitlines():
        parts = name.split("/")
        names.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(names)


@cache
def make_targets() -> frozenset[str]:
    """Targets the Makefile defines with a rule (not variables, not special targets)."""
    targets = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-][^:=#\s]*(?:[ \t]+[^:=#\s]+)*)[ \t]*::?(?!=)", line)
        if m:
            targets.update(t for t in m.group(1).split() if not t.startswith("."))
    return frozenset(targets)


@cache
def console_scripts() -> dict[str, str]:
    """[project.scripts] of pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


# ---- the checks, as functions of text (so that each can be shown to fail) ----

def path_tokens(chunk: str) -> Iterator[str]:
    """Words in a code chunk that look like repo-relative paths."""
    roots = GENERATED_ROOTS | {p.name for p in ROOT.iterdir()}
    for token in PATH_SPLIT.split(chunk):
        token = token.rstrip(".,").removeprefix("./")
        if not token or token.startswith(("/", "~", "../", "$", "-", "\\")) or re.search(r"[^\w./<>*@+-]", token):
            continue
        if "/" in token:
            if token.split("/")[0] in roots or token.rstrip("/").endswith(SOURCE_SUFFIXES):
                yield token.rstrip("/")
        elif token.endswith(SOURCE_SUFFIXES) or token in TOP_LEVEL_NAMES:
            yield token


def path_problem(path: str) -> str | None:
    """Why a documented path is wrong, or None when it exists, is declared, or is a known generated location."""
    first = path.split("/")[0]
    if path.startswith(USER_SUPPLIED) or path + "/" in USER_SUPPLIED:
        return None if (ROOT / USER_SUPPLIED[0]).is_dir() else f"{path}: {USER_SUPPLIED[0]} does not exist"
    if path in GENERATED or any(g.startswith(path + "/") for g in GENERATED) or path.startswith(GENERATED_TREES):
        return None
    if first in GENERATED_ROOTS:
        if tracked_files() and path in tracked_files():
            return None
        doc = re.compile(placeholder_regex(path))
        sample = PLACEHOLDER.sub("x", path)
        if any(doc.fullmatch(s) or regex.fullmatch(sample) for s, regex in output_candidates()):
            return None
        return f"{path}: neither tracked nor declared as an output in dvc.yaml (nor a known generated location)"
    if any(ROOT.glob(PLACEHOLDER.sub("*", path))) or (ROOT / path).exists():
        return None
    return f"{path}: no such file or folder in the repository"


def path_problems(text: str) -> list[str]:
    """Every wrong path mentioned in a doc's code."""
    return [p for chunk in code_chunks(text) for token in path_tokens(chunk) if (p := path_problem(token))]


def module_problems(text: str) -> list[str]:
    """Every `python -m X` / `torchrun ... -m X` whose module does not exist."""
    problems = []
    for chunk in code_chunks(text):
        for words in command_lines(chunk):
            name, args = program(words)
            if not (name.startswith("python") or name == "torchrun") or "-m" not in args[:-1]:
                continue
            module = args[args.index("-m") + 1]
            top = module.split(".")[0]
            if top in CODE_PACKAGES:
                rel = Path(*module.split("."))
                if not ((ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()):
                    problems.append(f"python -m {module}: no {rel}.py in the repository")
            elif importlib.util.find_spec(top) is None:
                problems.append(f"python -m {module}: module {top!r} is not installed")
    return problems


def make_problems(text: str) -> list[str]:
    """Every `make <target>` whose target the Makefile does not define."""
    problems = []
    for chunk in code_chunks(text):
        for words in command_lines(chunk):
            name, args = program(words)
            if name != "make":
                continue
            for target in args:
                if not target.startswith("-") and "=" not in target and target not in make_targets():
                    problems.append(f"make {target}: no such target in the Makefile")
    return problems


def dvc_targets(args: list[str]) -> Iterator[str]:
    """Positional arguments of `dvc repro|status|exp run` (stage names), options and their values skipped."""
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in DVC_VALUE_OPTIONS
        elif not word.startswith("<"):
            yield word


def stage_problem(target: str) -> str | None:
    """Why a stage target is wrong: unknown dvc.yaml, unknown name, or an @ suffix the matrix does not produce. A target
    is a stage of ./dvc.yaml, a dvc.yaml file (all its stages), or `file:stage`, as DVC parses it."""
    if target in dvc_files():
        return None
    dvcfile, _, name = target.rpartition(":")
    dvcfile = dvcfile or "dvc.yaml"
    if dvcfile not in dvc_files():
        return f"{target}: no pipeline file {dvcfile}"
    base, _, suffix = name.partition("@")
    stages = dvc_stages(dvcfile)
    if base not in stages:
        return f"{target}: no stage {base!r} in {dvcfile}"
    if suffix:
        if "matrix" not in stages[base]:
            return f"{target}: stage {base!r} is not a matrix stage"
        if suffix not in matrix_names(stages[base]):
            return f"{target}: {base!r} has no instance @{suffix} with the default params.yaml"
    return None


def stage_problems(text: str) -> list[str]:
    """Every stage named in `dvc repro`, `dvc exp run` or `dvc status` that dvc.yaml does not define."""
    problems = []
    for chunk in code_chunks(text):
        for words in command_lines(chunk):
            name, args = program(words)
            if name != "dvc" or not args:
                continue
            if args[0] in ("repro", "status"):
                rest = args[1:]
            elif args[:2] == ["exp", "run"]:
                rest = args[2:]
            else:
                continue
            problems += [p for target in dvc_targets(rest) if (p := stage_problem(target))]
    return problems


def scripts_mentioned(text: str) -> set[str]:
    """Console scripts of pyproject.toml named in a doc's code."""
    code = "\n".join(code_chunks(text))
    return {s for s in console_scripts() if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", code)}


def options_used(text: str, script: str) -> set[str]:
    """The --long options given to `script` in a doc's commands."""
    used = set()
    for chunk in code_chunks(text):
        for words in command_lines(chunk):
            name, args = program(words)
            if name == script:
                used.update(a.split("=")[0] for a in args if a.startswith("--"))
    return used


def link_problems(path: Path, text: str) -> list[str]:
    """Every relative Markdown link (outside code) whose target does not exist."""
    prose = INLINE.sub("", FENCE.sub("", text))
    problems = []
    for target in LINK.findall(prose):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        if not (path.parent / target.split("#")[0]).exists():
            problems.append(f"link to {target}: no such file")
    return problems


def readme_doc_links(text: str) -> set[str]:
    """docs/*.md pages (not docs/study/) the README links to."""
    return {t.split("#")[0] for t in LINK.findall(text) if re.fullmatch(r"docs/[^/]+\.md", t.split("#")[0])}


# ---- the tests ----

DOC_IDS = [str(p.relative_to(ROOT)) for p in doc_files()]


def test_readme_is_short():
    """README.md is read in five minutes: at most 150 lines; the depth lives in docs/."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move detail into docs/ (limit {MAX_README_LINES})"


def test_readme_indexes_every_doc():
    """Every docs/*.md the README links to exists, and every docs/*.md is linked from the README."""
    linked = readme_doc_links(README.read_text(encoding="utf-8"))
    pages = {str(p.relative_to(ROOT)) for p in DOCS.glob("*.md")}
    assert not linked - pages, f"README links to missing pages: {sorted(linked - pages)}"
    assert not pages - linked, f"pages in docs/ missing from the README index: {sorted(pages - linked)}"


@pytest.mark.parametrize("name", DOC_IDS)
def test_links_resolve(name):
    """Every relative link in a doc points at an existing file, relative to that doc."""
    path = ROOT / name
    problems = link_problems(path, path.read_text(encoding="utf-8"))
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", DOC_IDS)
def test_paths_exist(name):
    """Every repo-relative path in a doc's code exists, or, for outputs (data/, metrics/, plots/, reports/, dvc_plots/,
    .venv/ ...), is declared in dvc.yaml or is a known generated or user-supplied location (data/raw/)."""
    problems = path_problems((ROOT / name).read_text(encoding="utf-8"))
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", DOC_IDS)
def test_python_modules_exist(name):
    """Every `python -m X` in a doc names a module of the repository (stages.*, fer_pipeline.*) or an installed one."""
    problems = module_problems((ROOT / name).read_text(encoding="utf-8"))
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", DOC_IDS)
def test_make_targets_exist(name):
    """Every `make <target>` in a doc names a target the Makefile defines."""
    problems = make_problems((ROOT / name).read_text(encoding="utf-8"))
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", DOC_IDS)
def test_dvc_stage_names_exist(name):
    """Every stage in `dvc repro <stage>`, `dvc exp run <stage>`, `dvc status <stage>` is a stage of dvc.yaml;
    a matrix instance `<stage>@<values>` must be one the default params.yaml produces."""
    problems = stage_problems((ROOT / name).read_text(encoding="utf-8"))
    assert not problems, f"{name}:\n" + "\n".join(problems)


MENTIONED_SCRIPTS = sorted(set().union(*(scripts_mentioned(t) for t in doc_texts().values())))


@pytest.mark.parametrize("script", MENTIONED_SCRIPTS)
def test_console_scripts_answer_help(script):
    """Every console script of pyproject.toml the docs mention runs `--help` from the venv with exit status 0,
    and every --option the docs pass to it appears in that help."""
    exe = Path(sys.executable).parent / script
    assert exe.is_file(), f"{exe} missing: install the package (make install)"
    run = subprocess.run([str(exe), "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{script} --help exited {run.returncode}: {run.stderr[-2000:]}"
    used = set().union(*(options_used(t, script) for t in doc_texts().values())) - {"--help"}
    unknown = sorted(o for o in used if not re.search(rf"{re.escape(o)}(?![\w-])", run.stdout))
    assert not unknown, f"options documented for {script} but not in its --help: {unknown}"


def test_docs_mention_the_console_scripts():
    """The docs name every console script (so the --help test above covers them all)."""
    assert set(MENTIONED_SCRIPTS) == set(console_scripts())


def test_generated_file_names_are_still_written():
    """Each file name in FILES_IN_OUTPUT_DIRS is still named by the code (or dvc.yaml), so the allow-list cannot go stale."""
    sources = "\n".join(p.read_text() for d in ("fer_pipeline", "stages") for p in sorted((ROOT / d).rglob("*.py")))
    sources += "".join((ROOT / dvcfile).read_text() for dvcfile in dvc_files())
    for names in FILES_IN_OUTPUT_DIRS.values():
        for name in names:
            name = name.removeprefix("s<seed>/")
            if name in ("s<seed>", "s<seed>.json"):  # a seed's run folder, named by variants.run_name
                assert '/s{seed}"' in sources, "run_name no longer names a seed's run s<seed>"
                continue
            named = re.search(rf"[\"'/ ]{re.escape(name)}[\"'\s:/]", sources)  # "/": a folder named in a longer path
            assert named, f"{name}: no longer named in fer_pipeline/, stages/ or dvc.yaml"


@pytest.mark.parametrize(("check", "text"), [
    (path_problems, "`plots/summary/results.csv`"),                       # no stage writes it
    (path_problems, "`data/train/activation-tanh/model.pt`"),             # not where study runs go
    (path_problems, "`data/preprocess/stats.json`"),                      # preprocess writes normalization.json
    (path_problems, "```bash\ncat fer_pipeline/study_report.py\n```"),    # no such module
    (path_problems, "`stages/<name>.pyc`"),
    (module_problems, "`python -m stages.summary`"),
    (module_problems, "`torchrun --nproc_per_node=2 -m stages.nope --variant x`"),
    (module_problems, "`python -m no_such_module_here`"),
    (make_problems, "```bash\nmake study && make no-such-target   # comment\n```"),
    (stage_problems, "`dvc repro summary`"),
    (stage_problems, "```bash\ndvc exp run -S model.activation=tanh no_such_stage\n```"),
    (stage_problems, "`dvc status study_activation@swish`"),
    (stage_problems, "`dvc repro choose@0`"),
])
def test_checks_reject_known_bad_examples(check, text):
    """Each check reports a problem for a known-bad example (so a check that passes everything is caught)."""
    assert check(text), f"{check.__name__} accepted {text!r}"


@pytest.mark.parametrize(("check", "text"), [
    (path_problems, "`data/preprocess/normalization.json`, `data/train/study/activation-tanh/s0/model.pt`"),
    (path_problems, "`metrics/evaluate/<variant>.json`, `data/raw/archive.zip`, `.venv/bin/`, `dvc_plots/index.html`"),
    (path_problems, "`stages/<name>.py` `archive.zip:train/angry/x.jpg` `s3://bucket/x` `../shared/data/x.zip`"),
    (module_problems, "`python -m stages.fetch` and `python -m pytest -m \"not slow\"`"),
    (stage_problems, "`dvc repro study_activation@tanh`, `dvc exp run -S runtime.processes=2 -n two`, `dvc status`"),
])
def test_checks_accept_known_good_examples(check, text):
    """Each check accepts correct examples of the forms the docs use."""
    assert not check(text)


def test_link_and_index_checks_fail_on_bad_input(tmp_path):
    """The link check reports a missing target; the README index helper sees only docs/*.md links."""
    page = tmp_path / "page.md"
    assert link_problems(page, "see [x](missing.md) and [web](https://example.org)") == ["link to missing.md: no such file"]
    assert readme_doc_links("[a](docs/a.md) [b](docs/study/study.md) [c](docs/c.md#part)") == {"docs/a.md", "docs/c.md"}
