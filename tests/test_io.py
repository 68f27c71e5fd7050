"""fer_pipeline.io: atomic writes leave either the complete new file or nothing, and no temp files."""

from __future__ import annotations

import pytest

from fer_pipeline.io import atomic_path, read_json, write_json


def test_atomic_path_success(tmp_path):
    """On success the content appears under the final name and the temp file is gone."""
    final = tmp_path / "out.txt"
    with atomic_path(final) as tmp:
        assert tmp != final and tmp.parent == final.parent
        tmp.write_text("done")
        assert not final.exists()  # nothing under the final name until the block ends
    assert final.read_text() == "done"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_path_failure_leaves_nothing(tmp_path):
    """When the block raises, no file appears under the final name and no temp file stays behind."""
    final = tmp_path / "out.txt"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(final) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert not final.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_failure_keeps_old_file(tmp_path):
    """A failed rewrite leaves the previous file untouched."""
    final = tmp_path / "out.txt"
    final.write_text("old")
    with pytest.raises(ValueError):
        with atomic_path(final) as tmp:
            tmp.write_text("new")
            raise ValueError
    assert final.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_path_creates_parents(tmp_path):
    """Missing parent folders are created."""
    final = tmp_path / "a" / "b" / "out.txt"
    with atomic_path(final) as tmp:
        tmp.write_text("x")
    assert final.read_text() == "x"


def test_json_round_trip(tmp_path):
    """write_json then read_json returns an equal object (nested dicts, lists, floats, None, unicode)."""
    obj = {"data": "FER2013", "scores": [0.5, 1.0, 0], "nested": {"a": None, "b": True, "é": "ü"}}
    path = tmp_path / "m" / "metrics.json"
    write_json(path, obj)
    assert read_json(path) == obj
    assert path.read_text().endswith("\n")
    assert list(obj) == list(read_json(path))  # key order kept
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]


def test_write_json_unserializable_leaves_nothing(tmp_path):
    """An object JSON cannot encode raises, and leaves no file (not even an empty one)."""
    path = tmp_path / "metrics.json"
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_gives_usual_permissions(tmp_path):
    """Files written through atomic_path get 0666 minus the umask, not mkstemp's owner-only 0600."""
    import os

    from fer_pipeline.io import _current_umask

    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    assert (target.stat().st_mode & 0o777) == (0o666 & ~_current_umask())
    assert os.access(target, os.R_OK)
