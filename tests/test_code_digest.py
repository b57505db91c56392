"""The model's code fingerprint: which files it covers and that any change to them shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.code_digest import PACKAGE, code_digest, digest_of, package_files


def write_package(root: Path) -> None:
    (root / "mechanics").mkdir(parents=True)
    (root / "__pycache__").mkdir()
    (root / "__init__.py").write_text("x = 1\n")
    (root / "mechanics" / "combat.py").write_text("RATE = 0.5\n")
    (root / "data.csv").write_text("a,b\n1,2\n")
    (root / "__pycache__" / "combat.cpython-312.nbi").write_bytes(b"numba index")
    (root / "__pycache__" / "generated.py").write_text("CACHED = True\n")
    (root / "notes.txt").write_text("not code\n")


def test_the_digest_covers_code_and_data_not_caches(tmp_path: Path) -> None:
    write_package(tmp_path)
    files = [p.relative_to(tmp_path).as_posix() for p in package_files(tmp_path)]
    assert files == ["__init__.py", "data.csv", "mechanics/combat.py"]
    before = digest_of(tmp_path)
    assert len(before) == 64 and digest_of(tmp_path) == before
    # a numba cache or a note written beside the code changes nothing
    (tmp_path / "__pycache__" / "combat.cpython-312.nbi").write_bytes(b"another index")
    (tmp_path / "__pycache__" / "generated.py").write_text("CACHED = False\n")
    (tmp_path / "notes.txt").write_text("edited\n")
    assert digest_of(tmp_path) == before
    # one changed number in the code, or in the data, does
    (tmp_path / "mechanics" / "combat.py").write_text("RATE = 0.6\n")
    changed = digest_of(tmp_path)
    assert changed != before
    (tmp_path / "data.csv").write_text("a,b\n1,3\n")
    assert digest_of(tmp_path) not in (before, changed)


def test_a_file_moved_changes_the_digest(tmp_path: Path) -> None:
    write_package(tmp_path)
    before = digest_of(tmp_path)
    (tmp_path / "mechanics" / "combat.py").rename(tmp_path / "combat.py")
    assert digest_of(tmp_path) != before


def test_an_edit_shows_in_the_same_process(tmp_path: Path) -> None:
    """The digest is cached by the files' stamps: an edit after a first call still shows."""
    import os

    write_package(tmp_path)
    before = digest_of(tmp_path)
    path = tmp_path / "mechanics" / "combat.py"
    path.write_text("RATE = 0.9\n")  # same size as before
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert digest_of(tmp_path) != before


def test_a_folder_without_init_is_refused(tmp_path: Path) -> None:
    write_package(tmp_path)
    (tmp_path / "__init__.py").unlink()
    with pytest.raises(RuntimeError, match=r"no __init__\.py among the package's files"):
        digest_of(tmp_path)


def test_the_package_digest_is_of_sim() -> None:
    assert code_digest() == digest_of(PACKAGE)
    assert PACKAGE / "model.py" in package_files()
