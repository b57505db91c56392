"""Atomic writes (`sim.files`): the old file or the whole new one, never a partial one."""

from __future__ import annotations

import pytest

from sim.files import (
    STALE_PATTERN,
    atomic_path,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    temporary_path,
)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_text_and_bytes_are_written_and_replace_an_old_file(tmp_path):
    path = tmp_path / "a.txt"
    assert atomic_write_text(path, "first\n") == path
    assert atomic_write_text(path, "zweite\n") == path
    assert path.read_text(encoding="utf-8") == "zweite\n"
    assert atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01") == tmp_path / "b.bin"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_a_failing_writer_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old\n")

    def half_then_fail(temp):
        temp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert path.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_a_failing_write_of_a_new_file_leaves_nothing(tmp_path):
    with pytest.raises(ValueError), atomic_path(tmp_path / "new.json") as temp:
        temp.write_text("{")
        raise ValueError("bad")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_keeps_the_old_file(tmp_path):
    path = tmp_path / "fit.json"
    path.write_text("{}")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as temp:
        temp.write_text('{"half": ')
        raise KeyboardInterrupt
    assert path.read_text() == "{}"
    assert _leftovers(tmp_path) == []


def test_a_writer_that_writes_nothing_fails_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "plot.png"
    path.write_bytes(b"png")
    with pytest.raises(FileNotFoundError):
        atomic_write(path, lambda temp: None)
    assert path.read_bytes() == b"png"


def test_the_temporary_file_is_hidden_beside_the_target_and_unique(tmp_path):
    path = tmp_path / "runs" / "r.parquet"
    first, second = temporary_path(path), temporary_path(path)
    assert first != second
    assert first.parent == path.parent and first.name.startswith(".r.parquet.tmp")
    assert first.match(STALE_PATTERN)
    with atomic_path(tmp_path / "x.txt") as temp:
        assert temp.parent == tmp_path and temp.match(STALE_PATTERN)
        temp.write_text("x")
        assert not (tmp_path / "x.txt").exists()  # only renamed at the end
    assert (tmp_path / "x.txt").read_text() == "x"


def test_figures_and_frames_are_written_whole_in_their_formats(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from sim.files import atomic_save_figure, atomic_to_csv, atomic_to_parquet

    fig, _ = plt.subplots()
    png = atomic_save_figure(fig, tmp_path / "f.png", dpi=20)
    svg = atomic_save_figure(fig, tmp_path / "f.svg")
    plt.close(fig)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:400]
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    atomic_to_csv(frame, tmp_path / "t.csv", index=False)
    atomic_to_parquet(frame, tmp_path / "t.parquet", index=False)
    assert (tmp_path / "t.csv").read_text() == "a,b\n1,x\n2,y\n"
    assert pd.read_parquet(tmp_path / "t.parquet").equals(frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "f.svg", "t.csv",
                                                         "t.parquet"]


def test_a_frame_that_cannot_be_written_keeps_the_old_file(tmp_path):
    from sim.files import atomic_to_parquet

    path = tmp_path / "t.parquet"
    path.write_bytes(b"old")
    with pytest.raises(AttributeError, match="to_parquet"):
        atomic_to_parquet(object(), path)  # not a frame: nothing is written
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
