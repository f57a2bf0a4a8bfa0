# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""`make bench` on a small scale, so that the benchmark and its amazon.aws baseline playbook keep working: both ways
onboard the users completely (the bench reads them back), the call budget holds at the server, and the table has
every row."""

from __future__ import annotations

import os
import sys
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tools import bench


def test_bench_of_three_users(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))

    status = bench.main(["--repeat", "1", "3", "--status", "6", "--pending", "2"])

    out = capsys.readouterr().out
    assert status == 0, out
    rows = {}
    for line in out.splitlines():
        if line.startswith("| 3 | "):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[1]] = cells
    assert sorted(rows) == sorted(bench.STEPS), out
    # Columns: users, run, ours s, amazon.aws s, ratio, then reads and writes per user, ours and amazon.aws.
    # Ours: 3 writes per new user, none when unchanged. amazon.aws: 4 (a login profile, then its reset flag).
    assert rows["onboard"][6] == "3.00" and rows["onboard"][8] == "4.00", rows["onboard"]
    assert rows["unchanged rerun"][6] == "0.00" and rows["unchanged rerun"][8] == "0.00", rows["unchanged rerun"]
    assert rows["promote rerun"][6] == "0.00", rows["promote rerun"]
    assert rows["promote"][3:5] == ["-", "-"], rows["promote"]
    assert "MISSED" not in out and "met    N=3: 9 writes for 3 new users, at most 3 each" in out, out
    # The status job on 6 users, 2 onboarding: 6 account-wide calls and 2 per onboarding user, against amazon.aws's
    # ListUsers, 2 calls per user and one task per user.
    (status_row,) = [line for line in out.splitlines() if line.startswith("| 6 | 2 | ")]
    cells = [cell.strip() for cell in status_row.strip("|").split("|")]
    assert (cells[5], cells[6]) == ("10", str(1 + 2 * 6 + 6)), status_row
    assert "met    status N=6: 0 writes, none allowed" in out, out


def test_bench_fails_when_the_baseline_does_not_do_the_job(monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any) -> None:
    """The read-back catches a baseline that leaves users out of the onboarding group."""
    broken = tmp_path / "broken.yml"
    with open(bench.BASELINE_PLAYBOOK, encoding="utf-8") as handle:
        text = handle.read()
    broken.write_text(text.replace('users: "{{ bench_users }}"', 'users: "{{ bench_users[:1] }}"'), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    monkeypatch.setattr(bench, "BASELINE_PLAYBOOK", str(broken))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))

    with pytest.raises(SystemExit, match=r"not in NotYetLoginUsers after onboarding: a0-user0001, a0-user0002"):
        bench.main(["--repeat", "1", "3"])
