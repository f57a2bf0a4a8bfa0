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
    theirs_onboard: tuple[float, ...] = (100.0, 80.0, 120.0),
    rerun_writes: int = 0,
    promote_rerun_writes: int = 0,
    new_reads: int | None = None,
    new_writes: int | None = None,
    plain_reads: int | None = None,
    plain_writes: int | None = None,
    plain_seconds: float = 2.5,
) -> dict[str, dict[str, list[t.Any]]]:
    """Figures like the bench's: ours 1 read per new user and 10 per run, 4 writes per user with file handover
    (3 without); amazon.aws 5 reads and 4 writes per user."""
    reads = count + 10 if new_reads is None else new_reads
    writes = 4 * count if new_writes is None else new_writes
    plain = M(
        plain_seconds,
        count + 10 if plain_reads is None else plain_reads,
        3 * count if plain_writes is None else plain_writes,
    )
    ours = {
        bench.FILE: [M(s, reads, writes) for s in ours_onboard],
        bench.NO_HANDOVER: [plain] * 3,
        "unchanged rerun": [M(2.0, 5 * count + 10, rerun_writes)] * 3,
        "promote": [M(2.0, 5 * count, 2 * count)] * 3,
        "promote rerun": [M(2.0, 5 * count, promote_rerun_writes)] * 3,
    }
    theirs = {
        bench.FILE: [M(s, 5 * count, 4 * count) for s in theirs_onboard],
        bench.NO_HANDOVER: [M(50.0, 5 * count, 4 * count)] * 3,
        "unchanged rerun": [M(45.0, 4 * count, 0)] * 3,
    }
    return {bench.OURS: ours, bench.THEIRS: theirs}


def missed(all_results: dict[int, t.Any]) -> list[str]:
    return [text for text, ok in bench.targets(all_results) if not ok]


def test_all_targets_met() -> None:
    checks = bench.targets({10: results(10), 100: results(100)})
    assert [text for text, _ok in checks] == [
        "N=100, onboard, file handover: ours / amazon.aws = 0.030, at most 0.05",  # medians 3.0 / 100.0
        "N=10, onboard, file handover: 40 writes for 10 new users, at most 4 each",
        "N=10, onboard, no handover: 30 writes for 10 new users, at most 4 each",
        "N=10: 0 writes in the unchanged rerun, none allowed",
        "N=10: 0 writes in the promote rerun, none allowed",
        "N=100, onboard, file handover: 400 writes for 100 new users, at most 4 each",
        "N=100, onboard, file handover: 110 reads for 100 new users, at most 2 each",
        "N=100, onboard, no handover: 300 writes for 100 new users, at most 4 each",
        "N=100, onboard, no handover: 110 reads for 100 new users, at most 2 each",
        "N=100: 0 writes in the unchanged rerun, none allowed",
        "N=100: 0 writes in the promote rerun, none allowed",
    ]
    assert all(ok for _text, ok in checks), checks


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # The medians: 5.1 / 100.0.
        ({"ours_onboard": (5.0, 5.1, 6.0)}, "N=100, onboard, file handover: ours / amazon.aws = 0.051, at most 0.05"),
        # A faster baseline: 4.5 / 70.0.
        (
            {"ours_onboard": (4.0, 4.5, 5.0), "theirs_onboard": (60.0, 70.0, 80.0)},
            "N=100, onboard, file handover: ours / amazon.aws = 0.064, at most 0.05",
        ),
        ({"rerun_writes": 1}, "N=100: 1 writes in the unchanged rerun, none allowed"),
        ({"promote_rerun_writes": 2}, "N=100: 2 writes in the promote rerun, none allowed"),
        ({"new_writes": 401}, "N=100, onboard, file handover: 401 writes for 100 new users, at most 4 each"),
        ({"new_reads": 201}, "N=100, onboard, file handover: 201 reads for 100 new users, at most 2 each"),
        ({"plain_writes": 401}, "N=100, onboard, no handover: 401 writes for 100 new users, at most 4 each"),
        ({"plain_reads": 201}, "N=100, onboard, no handover: 201 reads for 100 new users, at most 2 each"),
    ],
)
def test_a_missed_target_is_named(change: dict[str, t.Any], expected: str) -> None:
    assert missed({10: results(10), 100: results(100, **change)}) == [expected]


def test_the_ratio_target_is_for_the_file_handover_row_only() -> None:
    """The no-handover row (the module alone beside the plain amazon.aws loop) is shown, not a target."""
    assert missed({100: results(100, plain_seconds=40.0)}) == []


def test_the_writes_target_holds_at_every_n() -> None:
    assert missed({10: results(10, new_writes=41)}) == [
        "N=10, onboard, file handover: 41 writes for 10 new users, at most 4 each"
    ]


def test_the_ratio_and_reads_targets_are_for_100_users_and_more() -> None:
    """At N = 10 the run's 8 account-level reads are almost 1 per user by themselves: no reads target there; nor
    a ratio target, which is for N = 100 only. The reads target holds again for more than 100 users."""
    small = results(10, ours_onboard=(1.4,) * 3, theirs_onboard=(5.7,) * 3, new_reads=35, plain_reads=35)
    assert missed({10: small}) == []
    assert missed({200: results(200, ours_onboard=(50.0,) * 3, new_reads=401)}) == [
        "N=200, onboard, file handover: 401 reads for 200 new users, at most 2 each"
    ]


def test_table_rows_hold_medians_ratios_and_calls_per_user() -> None:
    lines = bench.table({100: results(100)}, 3)
    rows = [line for line in lines if line.startswith("| 100 | ")]
    assert [row.split(" | ")[1] for row in rows] == list(bench.STEPS)
    assert rows[0] == (
        "| 100 | onboard, file handover | 3.0 (2.0-4.0) | 100.0 (80.0-120.0) | 0.030 | 1.10 | 4.00 | 5.00 | 4.00 |"
    )
    assert (
        rows[1]
        == "| 100 | onboard, no handover | 2.5 (2.5-2.5) | 50.0 (50.0-50.0) | 0.050 | 1.10 | 3.00 | 5.00 | 4.00 |"
    )
    assert rows[2] == "| 100 | unchanged rerun | 2.0 (2.0-2.0) | 45.0 (45.0-45.0) | 0.044 | 5.10 | 0.00 | 4.00 | 0.00 |"
    assert rows[3] == "| 100 | promote | 2.0 (2.0-2.0) | - | - | 5.00 | 2.00 | - | - |"
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
