"""scripts/compare_reports.py: several reports' hits side by side, and bad input refused."""

import importlib.util

import pandas as pd

from ..conftest import ROOT

spec = importlib.util.spec_from_file_location("compare_reports",
                                              ROOT / "scripts" / "compare_reports.py")
compare_reports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_reports)


def write_report(path, hits):
    """A report.csv with the given hits (None: the target was not compared)."""
    rows = [{"target": target, "low": 0.0, "high": 1.0,
             "sim_q50": None if hit is None else 0.5, "hit": "" if hit is None else hit}
            for target, hit in hits.items()]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_the_hits_are_counted_per_target_and_per_report(tmp_path, capsys):
    a = write_report(tmp_path / "a.csv", {"x": True, "y": False, "z": True, "w": None})
    b = write_report(tmp_path / "b.csv", {"x": True, "y": False, "z": False, "w": True})
    markdown = tmp_path / "hits.md"
    assert compare_reports.main([f"first={a}", f"second={b}", "--markdown", str(markdown)]) == 0
    out = capsys.readouterr().out
    assert "first: 2 of 3 medians in range" in out and "second: 2 of 4 medians in range" in out
    assert "hit by no report (1): y" in out
    assert "hit by every report (1): x" in out  # w: first did not compare it, so not "every"
    table = compare_reports.hit_table([compare_reports.read_hits(f"first={a}"),
                                       compare_reports.read_hits(f"second={b}")])
    assert table.index.tolist() == ["y", "z", "w", "x"]  # fewest hits first, then first seen
    assert table["hits"].tolist() == [0, 1, 1, 2]
    assert markdown.read_text(encoding="utf-8").splitlines()[4] == "| w | - | 1 | 1 |"


def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    good = write_report(tmp_path / "good.csv", {"x": True})
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("target,median\nx,1\n", encoding="utf-8")
    odd = write_report(tmp_path / "odd.csv", {"x": "maybe"})
    markdown = tmp_path / "hits.md"
    markdown.write_text("kept", encoding="utf-8")
    cases = {
        f"{tmp_path / 'none.csv'}": "expected LABEL=path/to/report.csv",
        f"a={tmp_path / 'none.csv'}": "no such file",
        f"a={wrong}": "column(s) sim_q50, hit missing",
        f"a={odd}": "hit of x is not true or false",
    }
    for argument, message in cases.items():
        assert compare_reports.main([argument, "--markdown", str(markdown)]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1
    assert compare_reports.main([f"a={good}", f"a={good}", "--markdown", str(markdown)]) == 2
    assert "the label is used twice" in capsys.readouterr().err
    assert markdown.read_text(encoding="utf-8") == "kept"
