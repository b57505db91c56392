"""The shared progress bar (`sim.progress.ProgressBar`)."""

from __future__ import annotations

from sim.progress import ProgressBar


def test_the_bar_appears_on_the_first_update_and_follows_the_count(capsys):
    bar = ProgressBar("runs")
    assert bar.bar is None  # nothing shown before the total is known
    bar.update(2, 10, postfix="0 failed")
    assert bar.bar.n == 2 and bar.bar.total == 10
    bar.update(7, 10, postfix="1 failed")
    assert bar.bar.n == 7
    bar.close()
    shown = capsys.readouterr().err
    assert "runs" in shown and "7/10" in shown and "1 failed" in shown


def test_a_disabled_or_unused_bar_shows_nothing(capsys):
    with ProgressBar("days", unit="day", total=5, disable=True) as bar:
        bar.update(0)
        bar.update(5)
    ProgressBar("never").close()
    assert capsys.readouterr().err == ""
