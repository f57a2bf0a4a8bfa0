# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""`make bench` on a small scale, so that the benchmark and its playbooks keep working: both ways onboard the users
completely, with and without a note per user (the bench reads them back), the call budget holds at the server, and
the table has every row; and a baseline that does not do the whole job stops the bench."""

from __future__ import annotations

import os
import sys
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tools import bench


def test_bench_of_three_users(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    # The bench's first fresh account runs its bootstrap playbook; the status bench's, the same playbook again on an
    # empty account, is set up through boto3 instead (the same account: test_bootstrap_password_policy.py).
    fresh_accounts = []
    playbook_bootstrap = bench.Bench.fresh_account

    def fresh_account(self: bench.Bench) -> None:
        fresh_accounts.append("playbook" if not fresh_accounts else "boto3")
        if fresh_accounts[-1] == "playbook":
            playbook_bootstrap(self)
        else:
            self.server.reset()
            iam_state.bootstrapped(self.iam)

    monkeypatch.setattr(bench.Bench, "fresh_account", fresh_account)

    status = bench.main(["--repeat", "1", "3", "--status", "6", "--pending", "2"])

    out = capsys.readouterr().out
    assert status == 0, out
    rows = {}
    for line in out.splitlines():
        if line.startswith("| 3 | "):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[1]] = cells
    assert list(rows) == list(bench.STEPS), out
    # Columns: users, run, ours s, amazon.aws s, ratio, then reads and writes per user, ours and amazon.aws.
    # Ours with file handover: CreateUser (marked pending), AddUserToGroup, CreateLoginProfile, TagUser (delivered);
    # without, no mark. amazon.aws: 4 either way (a login profile, then its reset flag), the notes cost no call.
    assert rows[bench.FILE][6] == "4.00" and rows[bench.FILE][8] == "4.00", rows[bench.FILE]
    assert rows[bench.NO_HANDOVER][6] == "3.00" and rows[bench.NO_HANDOVER][8] == "4.00", rows[bench.NO_HANDOVER]
    assert rows["unchanged rerun"][6] == "0.00" and rows["unchanged rerun"][8] == "0.00", rows["unchanged rerun"]
    assert rows["promote rerun"][6] == "0.00", rows["promote rerun"]
    assert rows["promote"][3:5] == ["-", "-"], rows["promote"]
    assert "MISSED" not in out, out
    assert "met    N=3, onboard, file handover: 12 writes for 3 new users, at most 4 each" in out, out
    assert "met    N=3, onboard, no handover: 9 writes for 3 new users, at most 4 each" in out, out
    # At 3 users the run's account-level reads alone are more than 2 per user: the reads target starts at N = 100,
    # and so does the ratio target.
    assert "reads for 3 new users" not in out and "ours / amazon.aws =" not in out, out
    assert "bench: load average " in out and " at the start" in out, out
    # The status job on 6 users, 2 onboarding: 6 account-wide calls and 2 per onboarding user, against amazon.aws's
    # ListUsers, 2 calls per user and one task per user.
    (status_row,) = [line for line in out.splitlines() if line.startswith("| 6 | 2 | ")]
    cells = [cell.strip() for cell in status_row.strip("|").split("|")]
    assert (cells[5], cells[6]) == ("10", str(1 + 2 * 6 + 6)), status_row
    assert "met    status N=6: 0 writes, none allowed" in out, out
    assert fresh_accounts == ["playbook", "boto3"], fresh_accounts


def bootstrapped_by_boto3(self: bench.Bench) -> None:
    """What Bench.fresh_account leaves (an empty account, then the bootstrap role with its defaults), without the
    playbook run."""
    self.server.reset()
    iam_state.bootstrap_guards(self.iam)
    self.iam.update_account_password_policy(AllowUsersToChangePassword=True)


@pytest.mark.parametrize(
    ("playbook", "old", "new", "error"),
    [
        pytest.param(
            "BASELINE_PLAYBOOK",
            'users: "{{ bench_users }}"',
            'users: "{{ bench_users[:1] }}"',
            r"not in NotYetLoginUsers after onboarding: a0-none0001 ",
            id="no-handover-group",
        ),
        pytest.param(
            "FILE_BASELINE_PLAYBOOK",
            'users: "{{ bench_users }}"',
            'users: "{{ bench_users[:1] }}"',
            r"not in NotYetLoginUsers after onboarding: a0-file0001 ",
            id="file-handover-group",
        ),
        pytest.param(
            "FILE_BASELINE_PLAYBOOK",
            "loop: \"{{ bench_created.results | select('changed') }}\"",
            'loop: "{{ bench_created.results[:1] }}"',
            r"are not one per user: missing \['a0-file0001.txt'\], unexpected \[\]",
            id="a-note-for-one-user-only",
        ),
        pytest.param(
            "FILE_BASELINE_PLAYBOOK",
            'dest: "{{ bench_handover_dir }}/{{ item.item }}.txt"\n        mode: "0600"',
            'dest: "{{ bench_handover_dir }}/{{ item.item }}.txt"\n        mode: "0644"',
            r"a0-file0000.txt is not a file of mode 0600: -rw-r--r--",
            id="notes-readable-by-all",
        ),
        pytest.param(
            "FILE_BASELINE_PLAYBOOK",
            "Temporary password: {{ bench_passwords[item.item] }}",
            "Temporary password: {{ bench_passwords[bench_users[0]] }}",
            r"hold 1 different passwords for 2 users",
            id="the-first-users-password-in-every-note",
        ),
    ],
)
def test_bench_fails_when_the_baseline_does_not_do_the_job(
    monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any, playbook: str, old: str, new: str, error: str
) -> None:
    """The read-back catches a baseline that leaves users out of the onboarding group, or hands the passwords
    over badly (two users are enough to leave one out, or to give both the first one's password). Ours is left
    out (it runs first and is checked by the test above), and so is the bootstrap playbook: the account is set up
    as the bootstrap role leaves it through boto3 (the test above runs the bench's own bootstrap)."""
    broken = tmp_path / "broken.yml"
    with open(getattr(bench, playbook), encoding="utf-8") as handle:
        text = handle.read()
    assert text.count(old) == 1, old
    broken.write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.setattr(bench, playbook, str(broken))
    monkeypatch.setattr(bench.Bench, "ours", lambda self, users, other_users: {})
    monkeypatch.setattr(bench.Bench, "fresh_account", bootstrapped_by_boto3)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))

    with pytest.raises(SystemExit, match=error):
        bench.main(["--repeat", "1", "2"])
