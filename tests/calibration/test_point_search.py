"""scripts/point_search.py: the climb finds a known optimum; bad counts of seeds are refused."""

import importlib.util

import numpy as np
import pytest

from ..conftest import ROOT

spec = importlib.util.spec_from_file_location("point_search", ROOT / "scripts" / "point_search.py")
point_search = importlib.util.module_from_spec(spec)
spec.loader.exec_module(point_search)


def synthetic(where: np.ndarray) -> tuple[int, float]:
    """Six 'targets': coordinate i is in range above 0.7; the distance is the total shortfall."""
    return int((where > 0.7).sum()), float(np.clip(0.7 - where, 0, None).sum())


def test_the_climb_reaches_every_range_of_a_synthetic_box(capsys):
    start = np.full(6, 0.2)
    best, tried = point_search.climb(synthetic, start, np.random.default_rng(0), 0.15,
                                     seconds=60.0, points=400)
    assert tried == 400
    assert synthetic(best)[0] == 6 and np.all((best >= 0) & (best <= 1))
    assert np.array_equal(start, np.full(6, 0.2))  # the start is not changed in place
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "start: 0 in range, distance 3.000"
    # each printed improvement has more hits, or as many nearer, than the one before
    scores = [(int(line.split("] ")[1].split()[0]), -float(line.split("distance ")[1][:5]))
              for line in lines[1:]]
    assert scores == sorted(scores) and len(set(scores)) == len(scores)


def test_the_climb_keeps_the_start_when_nothing_is_better():
    def flat(where: np.ndarray) -> tuple[int, float]:
        return 3, 0.0

    start = np.linspace(0.1, 0.9, 5)
    best, tried = point_search.climb(flat, start, np.random.default_rng(1), 0.3, 60.0, 50)
    assert tried == 50 and np.array_equal(best, start)


@pytest.mark.parametrize("flag", ["--seeds", "--check-seeds"])
def test_seed_counts_outside_1_to_99_are_refused(flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        point_search.main([flag, "0"])
    assert exit_info.value.code == 2
    assert "--seeds and --check-seeds: allowed 1 to 99" in capsys.readouterr().err


def test_a_box_of_one_or_two_coordinates_is_searched_too():
    best, tried = point_search.climb(synthetic, np.full(2, 0.2), np.random.default_rng(2), 0.2,
                                     60.0, 200)
    assert tried == 200 and synthetic(best)[0] == 2


def test_an_out_file_in_a_missing_folder_is_refused_before_any_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        point_search.main(["--out", str(tmp_path / "missing" / "best.json")])
    assert exit_info.value.code == 2
    assert f"--out: {tmp_path / 'missing'} is not a folder" in capsys.readouterr().err
