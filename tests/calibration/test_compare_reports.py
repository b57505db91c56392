"""scripts/compare_reports.py: several reports' hits side by side, and bad input refused."""

import importlib.util

import pandas as pd

from ..conftest import ROOT

spec = importlib.util.spec_from_file_location("compare_reports",
                                              ROOT / "scripts" / "compare_reports.py")
compare_reports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_reports)


def write_report(path, hits):
    """A report.csv with the given hits as the report writes them (None: not compared)."""
    def cell(hit):
        return "" if hit is None else str(hit).lower()  # sim/calibration/report.py: true/false

    rows = [{"target": target, "low": 0.0, "high": 1.0,
             "sim_q50": None if hit is None else 0.5, "hit": cell(hit)}
            for target, hit in hits.items()]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_the_hits_are_counted_per_target_and_per_report(tmp_path, capsys):
    a = write_report(tmp_path / "a.csv",
                     {"x": True, "y": False, "z": True, "w": None, "v": None, "u": None})
    b = write_report(tmp_path / "b.csv",
                     {"x": True, "y": False, "z": False, "w": True, "v": False, "u": None})
    markdown = tmp_path / "hits.md"
    assert compare_reports.main([f"first={a}", f"second={b}", "--markdown", str(markdown)]) == 0
    out = capsys.readouterr().out
    assert "first: 2 of 3 medians in range" in out and "second: 2 of 5 medians in range" in out
    assert "hit by no report (2): y, v" in out  # v: missed by the one report comparing it
    assert "hit by every report (1): x" in out  # w: hit by second, not compared by first
    assert "u" not in out.split()  # compared by no report: left out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:6]}
    assert rows == {"y": ["0", "0", "0"], "v": ["-", "0", "0"], "z": ["1", "0", "1"],
                    "w": ["-", "1", "1"], "x": ["1", "1", "2"]}
    table = compare_reports.hit_table([compare_reports.read_hits(f"first={a}"),
                                       compare_reports.read_hits(f"second={b}")])
    assert table.index.tolist() == ["y", "v", "z", "w", "x"]  # fewest hits, then first seen
    assert table["hits"].tolist() == [0, 0, 1, 1, 2]
    assert markdown.read_text(encoding="utf-8").splitlines()[5] == "| w | - | 1 | 1 |"


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
    twice = tmp_path / "twice.csv"
    twice.write_text("target,sim_q50,hit\nx,1,true\nx,2,false\n", encoding="utf-8")
    assert compare_reports.main([f"a={twice}", "--markdown", str(markdown)]) == 2
    assert "target x is listed twice" in capsys.readouterr().err
    assert compare_reports.main([f"a={good}", f"a={good}", "--markdown", str(markdown)]) == 2
    assert "the label is used twice" in capsys.readouterr().err
    assert compare_reports.main([f"hits={good}", "--markdown", str(markdown)]) == 2
    assert "the label is reserved" in capsys.readouterr().err
    assert compare_reports.main([f"a={good}", "--markdown", str(tmp_path / "no" / "h.md")]) == 2
    assert "no folder" in capsys.readouterr().err and not (tmp_path / "no").exists()
    assert markdown.read_text(encoding="utf-8") == "kept"
