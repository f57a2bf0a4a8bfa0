# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tools/bench.py's report: the table's medians and ratios, and the target checks that decide its exit status."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tools import bench

M = bench.Measurement


def results(
    count: int,
    ours_onboard: tuple[float, ...] = (3.0, 2.0, 4.0),
    theirs_onboard: tuple[float, ...] = (50.0, 40.0, 60.0),
    rerun_writes: int = 0,
    new_reads: int | None = None,
    new_writes: int | None = None,
) -> dict[str, dict[str, list[t.Any]]]:
    reads = count + 3 if new_reads is None else new_reads
    writes = 3 * count if new_writes is None else new_writes
    ours = {
        "onboard": [M(s, reads, writes) for s in ours_onboard],
        "unchanged rerun": [M(2.0, 5 * count + 3, rerun_writes)] * 3,
        "promote": [M(2.0, 5 * count, 2 * count)] * 3,
        "promote rerun": [M(2.0, 5 * count, 0)] * 3,
    }
    theirs = {
        "onboard": [M(s, 5 * count, 4 * count) for s in theirs_onboard],
        "unchanged rerun": [M(45.0, 4 * count, 0)] * 3,
    }
    return {bench.OURS: ours, bench.THEIRS: theirs}


def missed(all_results: dict[int, t.Any]) -> list[str]:
    return [text for text, ok in bench.targets(all_results) if not ok]


def test_all_targets_met() -> None:
    checks = bench.targets({10: results(10), 100: results(100)})
    assert len(checks) == 1 + 2 * 4
    assert all(check[1] for check in checks), checks
    assert checks[0][0] == "N=100: ours / amazon.aws = 0.060, at most 0.1"  # medians 3.0 / 50.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"ours_onboard": (5.1, 5.2, 6.0)}, "N=100: ours / amazon.aws = 0.104, at most 0.1"),
        ({"rerun_writes": 1}, "N=100: 1 writes in the unchanged rerun, none allowed"),
        ({"new_writes": 301}, "N=100: 301 writes for 100 new users, at most 3 each"),
        ({"new_reads": 301}, "N=100: 301 reads for 100 new users, at most 3 each"),
    ],
)
def test_a_missed_target_is_named(change: dict[str, t.Any], expected: str) -> None:
    assert missed({10: results(10), 100: results(100, **change)}) == [expected]


def test_the_ratio_target_is_for_100_users_only() -> None:
    assert missed({10: results(10, ours_onboard=(1.4,) * 3, theirs_onboard=(5.7,) * 3)}) == []


def test_table_rows_hold_medians_ratios_and_calls_per_user() -> None:
    lines = bench.table({100: results(100)}, 3)
    onboard = next(line for line in lines if line.startswith("| 100 | onboard |"))
    promote = next(line for line in lines if line.startswith("| 100 | promote |"))
    assert onboard == "| 100 | onboard | 3.0 (2.0-4.0) | 50.0 (40.0-60.0) | 0.060 | 1.03 | 3.00 | 5.00 | 4.00 |"
    assert promote == "| 100 | promote | 2.0 (2.0-2.0) | - | - | 5.00 | 2.00 | - | - |"
    assert lines[-1] == "\nMedians of 3 runs each (range in brackets); one moto server, 2-core machine."


def status_results(ours_seconds: float = 5.0, ours_calls: int = 106, writes: int = 0) -> dict[str, t.Any]:
    return {
        bench.OURS: [M(ours_seconds, ours_calls - writes, writes)] * 3,
        bench.THEIRS: [M(320.0, 3001, 0)],
    }


def test_status_targets_met_and_the_table() -> None:
    checks = bench.status_targets(1000, 50, status_results())
    assert all(ok for _text, ok in checks), checks
    assert [text for text, _ok in checks] == [
        "status N=1000: ours / amazon.aws = 0.016, at most 0.1",
        "status N=1000: 106 calls for 50 onboarding users, at most 150",
        "status N=1000: 0 writes, none allowed",
    ]
    lines = bench.status_table(1000, 50, status_results())
    assert lines[2] == "| 1000 | 50 | 5.0 (5.0-5.0) | 320.0 | 0.016 | 106 | 3001 |"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"ours_seconds": 40.0}, "status N=1000: ours / amazon.aws = 0.125, at most 0.1"),
        ({"ours_calls": 151}, "status N=1000: 151 calls for 50 onboarding users, at most 150"),
        ({"writes": 1}, "status N=1000: 1 writes, none allowed"),
    ],
)
def test_a_missed_status_target_is_named(change: dict[str, t.Any], expected: str) -> None:
    missed_checks = [text for text, ok in bench.status_targets(1000, 50, status_results(**change)) if not ok]
    assert missed_checks == [expected]


def test_the_status_ratio_is_a_target_at_1000_users_only() -> None:
    small = bench.status_targets(6, 2, status_results(ours_seconds=300.0, ours_calls=10))
    assert [text for text, _ok in small] == [
        "status N=6: 10 calls for 2 onboarding users, at most 54",
        "status N=6: 0 writes, none allowed",
    ]
