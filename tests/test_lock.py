"""A lock file (dvc.lock, data/dvc.lock) records only stages that the dvc.yaml beside it defines: an entry for a
stage that no longer exists is dead weight that every `dvc status` and `dvc repro` parses, and it reads as if that
stage still produced results."""

from __future__ import annotations

import yaml
from dvc.repo import Repo

from tools.lockcheck import orphaned_entries

from .conftest import ROOT


def test_lock_holds_no_entry_for_an_undefined_stage():
    """Every entry of the repo's lock files names a stage of the dvc.yaml beside it."""
    orphans = orphaned_entries(ROOT)
    assert not orphans, (f"the lock files hold {len(orphans)} entries for stages their dvc.yaml does not define, "
                         f"e.g. {sorted(orphans)[:5]}; "
                         "remove them from the lock file beside that dvc.yaml")


def test_orphaned_entry_is_found(tmp_path):
    """The check sees a lock entry whose stage is gone, and not the entries of matrix stages that exist."""
    Repo.init(str(tmp_path), no_scm=True).close()
    (tmp_path / "dvc.yaml").write_text("stages:\n  a:\n    cmd: 'true'\n  b:\n    matrix:\n      x: [1, 2]\n    cmd: 'true'\n")
    entry = {"cmd": "true"}
    stages = {"a": entry, "b@1": entry, "b@2": entry, "train_base@0": entry}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": stages}))
    assert orphaned_entries(tmp_path) == {"train_base@0"}
