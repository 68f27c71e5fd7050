"""The study's axes, each declared once: everything else (params.StudyParams and its base, the variants, choose's
factors, the factorial's factors, the stage arguments, the report's questions) is derived from AXES.

An axis sweeps one study key (study.<values>) around the base. Its values set model/train fields by kind:

    value      one field, to the value itself (e.g. activation -> model.activation)
    preset     the fields of the named entry of presets.<preset> (optimizer, architecture)
    depth      model.hidden: the base architecture's first width, repeated value times (a grid with `grid_with`)

A factor has a value in study.base (the control of every axis) and choose picks one of its values; the
carried factors' picks are measured together at the chosen architecture (the factorial,
analysis/factorial.py). dvc.yaml's study_<name> stages are the
only other place an axis appears; tests/test_stage_contract.py fails when they disagree with this registry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Axis:
    name: str            # the --axis name, the stage study_<name> and the variant prefix
    values: str          # study.<values> lists the values the axis trains besides the base's
    kind: str            # value | preset | depth (see the module docstring)
    question: str        # the report's question for the axis's family
    field: str = ""      # kind value: the "model.<f>" or "train.<f>" field the value sets
    preset: str = ""     # kind preset: presets.<preset> names the values; the section ("model"/"train") is `field`
    factor: bool = False   # in study.base and picked by choose
    carried: bool = False  # a factor of the factorial at the chosen architecture
    label: str = "{value}"  # the base's value for the report, formatted with the value and its settings' fields
    grid_with: str = ""  # kind depth: study.<grid_with> lists the activations crossed with each depth

    @property
    def family(self) -> str:
        """The comparison family's name (stats, report, metrics/study/<family>.json): a grid's names both axes."""
        return f"{self.name}_activation" if self.kind == "depth" else self.name

    @property
    def section(self) -> str:
        """model or train: where a value or preset axis's fields go."""
        return self.field.split(".")[0]


# In study order: the order of the study's keys, families, stats and report.
AXES = (
    Axis("activation", "activations", "value",
         "Which activation function gives the best test macro recall, everything else equal?",
         field="model.activation", factor=True, carried=True),
    Axis("batch_size", "batch_sizes", "value", "Which batch size?", field="train.batch_size", factor=True, carried=True,
         label="batch {value}"),
    Axis("optimizer", "optimizers", "preset", "Which optimizer, each with its own learning rate?",
         field="train", preset="optimizers", factor=True, carried=True, label="{optimizer} lr {lr:g}"),
    Axis("architecture", "architectures", "preset", "Which MLP depth/width, dropout or batch norm, or the compact CNN?",
         field="model", preset="architectures", factor=True, label="{family} {widths}"),
    Axis("imbalance", "imbalances", "value",
         "Does handling the class imbalance (class-weighted loss or a weighted sampler) raise macro recall?",
         field="train.imbalance", factor=True, carried=True),
    Axis("depth", "depths", "depth",
         "Do activation functions differ more in deeper MLPs (the original reviewers' hypothesis)?",
         grid_with="depth_activations"),
)


def by_name(axes: tuple[Axis, ...] = AXES) -> dict[str, Axis]:
    """name -> axis."""
    return {a.name: a for a in axes}


def factors(axes: tuple[Axis, ...]) -> tuple[str, ...]:
    """The factors choose picks, in the order their settings apply: the one whose preset is the model (the
    architecture: it decides the family) first, then the others in study order, each changing one thing."""
    return tuple(a.name for a in sorted((a for a in axes if a.factor), key=lambda a: (a.kind, a.section) != ("preset", "model")))


FACTORS = factors(AXES)
CARRIED = tuple(a.name for a in AXES if a.carried)


def replaced(axis: Axis) -> tuple[str, ...]:
    """The factors whose base value this axis's value replaces: a factor replaces its own, a grid none (its
    activation is given as an --axis of its own)."""
    return (axis.name,) if axis.factor else ()
