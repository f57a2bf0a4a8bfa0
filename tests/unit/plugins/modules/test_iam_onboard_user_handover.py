# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user's handover by file (invariants 3, 5, 6, 7; DESIGN section 4), against in-process moto: the note
holds the password IAM has, the password never reaches the result, a failed or killed handover leaves the user
pending and the next run re-issues exactly those, and the guards are verified before the first write."""

from __future__ import annotations

import json
import os
import stat
import typing as t

import pytest
from moto.backends import get_backend

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _handover
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import is_write

ACCOUNT = "123456789012"
MARK = "mfa-onboarding:handover"
Run = t.Callable[..., dict[str, t.Any]]
POWER_USER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}],
}


def iam_password(name: str) -> str | None:
    """The console password moto's backend holds for a user (AWS never returns it; moto keeps it)."""
    return get_backend("iam")[ACCOUNT]["global"].users[name].password


def mark(iam: t.Any, name: str) -> str | None:
    tags = {t["Key"]: t["Value"] for t in iam.get_user(UserName=name)["User"].get("Tags", [])}
    return tags.get(MARK)


def note_password(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        lines = [line for line in handle if "Temporary password:" in line]
    assert len(lines) == 1, lines
    return lines[0].split("Temporary password:", 1)[1].strip()


# AWS's IAMUserChangePassword: requires no MFA at all.
CHANGE_PASSWORD = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["iam:ChangePassword"], "Resource": ["arn:aws:iam::*:user/${aws:username}"]},
        {"Effect": "Allow", "Action": ["iam:GetAccountPasswordPolicy"], "Resource": "*"},
    ],
}


@pytest.fixture
def notes(tmp_path: t.Any) -> str:
    return str(tmp_path / "notes")


def file_args(notes: str, *names: str, **extra: t.Any) -> dict[str, t.Any]:
    return dict({"handover": "file", "handover_dir": notes, "users": [{"name": n} for n in names]}, **extra)


def test_each_note_holds_the_password_iam_has_and_the_result_holds_none(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, notes: str
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice", "bob"))

    assert stat.S_IMODE(os.stat(notes).st_mode) == 0o700
    for user in result["users"]:
        name = user["name"]
        path = os.path.join(notes, f"{name}.txt")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert note_password(path) == iam_password(name)
        assert (user["handover"], user["password_issued"]) == ("delivered", True)
        assert user["handover_via"] == {"channel": "file", "to": path}
        assert user["summary"] == f"{name}: onboarding, new temporary password handed over by file to {path}, changed"
        assert mark(iam, name) == "delivered"
        assert iam_password(name) not in json.dumps(result)
    assert "temporary_password" not in json.dumps(result)
    assert sorted(os.listdir(notes)) == ["alice.txt", "bob.txt"]  # nothing staged is left behind
    # At most 4 writes per new user: CreateUser (with the pending mark), AddUserToGroup, CreateLoginProfile, TagUser.
    assert sorted(api_calls.writes) == sorted(["CreateUser", "AddUserToGroup", "CreateLoginProfile", "TagUser"] * 2)
    created = [p for n, p in api_calls.calls if n == "CreateUser"]
    assert all({"Key": MARK, "Value": "pending"} in p["Tags"] for p in created)


def test_a_rerun_changes_nothing_and_rewrites_no_note(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, notes: str
) -> None:
    run_module(iam_onboard_user, file_args(notes, "alice"))
    before = os.stat(os.path.join(notes, "alice.txt"))
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice"))
    assert result["changed"] is False
    assert api_calls.writes == []
    assert result["users"][0]["handover"] == "delivered"
    assert os.stat(os.path.join(notes, "alice.txt")).st_mtime_ns == before.st_mtime_ns
    assert os.listdir(notes) == ["alice.txt"]


def test_a_failed_handover_leaves_the_user_pending_and_the_rerun_reissues_only_it(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, notes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _handover.FileChannel.deliver

    def full_disk(self: t.Any, name: str, *args: t.Any) -> None:
        if name == "bob":
            raise _handover.HandoverError("cannot write the note: No space left on device")
        real(self, name, *args)

    monkeypatch.setattr(_handover.FileChannel, "deliver", full_disk)
    result = run_module(iam_onboard_user, file_args(notes, "alice", "bob"))
    alice, bob = result["users"]
    assert result["failed"] is True and "1 of 2 users failed: user bob: the handover by file to" in result["msg"]
    assert (alice["handover"], bob["handover"], bob["failed"]) == ("delivered", "pending", True)
    assert "stays marked mfa-onboarding:handover=pending" in bob["msg"]
    assert (mark(iam, "alice"), mark(iam, "bob")) == ("delivered", "pending")
    assert iam_password("bob") is not None and not os.path.exists(os.path.join(notes, "bob.txt"))
    alice_password, first_bob = iam_password("alice"), iam_password("bob")

    monkeypatch.setattr(_handover.FileChannel, "deliver", real)
    api_calls.clear()
    rerun = run_module(iam_onboard_user, file_args(notes, "alice", "bob"))
    assert [u["changed"] for u in rerun["users"]] == [False, True]
    assert rerun["users"][1]["actions"] == [
        "UpdateLoginProfile",
        f"Handover by file to {notes}/bob.txt",
        f"TagUser {MARK}",
    ]
    assert sorted(api_calls.writes) == ["TagUser", "UpdateLoginProfile"]
    assert iam_password("alice") == alice_password  # nobody else gets a second password
    assert iam_password("bob") != first_bob
    assert note_password(os.path.join(notes, "bob.txt")) == iam_password("bob")
    assert mark(iam, "bob") == "delivered"


def test_a_note_staged_by_a_run_killed_after_the_mark_is_put_in_place_by_the_next_run(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, notes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(self: t.Any, name: str) -> bool:
        raise KeyboardInterrupt  # the process dies between TagUser(delivered) and the rename

    real = _handover.FileChannel.commit
    monkeypatch.setattr(_handover.FileChannel, "commit", killed)
    with pytest.raises(KeyboardInterrupt):
        run_module(iam_onboard_user, file_args(notes, "alice", concurrency=1))
    assert mark(iam, "alice") == "delivered"
    assert os.listdir(notes) == [".alice.txt.new"]
    password = iam_password("alice")

    monkeypatch.setattr(_handover.FileChannel, "commit", real)
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice"))
    # No IAM write, but a change on disk: the user is reported changed (a recap of changed=0 would hide it).
    assert api_calls.writes == [] and result["changed"] is True, result
    assert os.listdir(notes) == ["alice.txt"]
    assert note_password(os.path.join(notes, "alice.txt")) == password == iam_password("alice")
    assert any("the note an interrupted run had written is now in place" in w for w in json.dumps(result).split('"'))


def test_reset_password_keeps_the_replaced_note_as_a_backup(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, notes: str
) -> None:
    run_module(iam_onboard_user, file_args(notes, "alice"))
    first = note_password(os.path.join(notes, "alice.txt"))
    run_module(iam_onboard_user, file_args(notes, "alice", reset_password=True))
    names = sorted(os.listdir(notes))
    assert names[0] == "alice.txt" and len(names) == 2 and names[1].startswith("alice.txt.") and names[1].endswith("~")
    assert note_password(os.path.join(notes, names[1])) == first
    assert note_password(os.path.join(notes, "alice.txt")) == iam_password("alice") != first


def test_check_mode_writes_nothing_and_says_where_the_password_would_go(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, notes: str
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice"), check_mode=True, diff=True)
    assert api_calls.writes == [] and not os.path.exists(notes)
    (alice,) = result["users"]
    assert alice["summary"] == (
        f"alice: onboarding, a new temporary password would be issued and handed over by file to {notes}/alice.txt, "
        f"changed; planned: CreateUser {MARK}, AddUserToGroup NotYetLoginUsers, CreateLoginProfile, "
        f"Handover by file to {notes}/alice.txt, TagUser {MARK}"
    )
    assert alice["actions"][-2:] == [f"Handover by file to {notes}/alice.txt", f"TagUser {MARK}"]
    (diff,) = result["diff"]
    assert diff["before"] == {} and diff["after"]["tags"] == {MARK: "delivered"}


def test_handover_none_returns_the_password_and_marks_nobody(bootstrapped: t.Any, run_module: Run, iam: t.Any) -> None:
    result = run_module(iam_onboard_user, {"name": "alice"})
    assert result["temporary_password"] == iam_password("alice")
    assert (result["handover"], mark(iam, "alice")) == ("none", None)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        ("symlink", "is a symbolic link"),
        ("open", "has mode 0755"),
        ("file", "exists and is not a directory"),
        ("no-parent", "the parent directory"),
    ],
)
def test_a_handover_dir_that_is_not_safe_is_refused_before_any_write_and_left_as_it_was(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, tmp_path: t.Any, make: str, fragment: str
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    notes = tmp_path / "notes"
    if make == "symlink":
        notes.symlink_to(shared)
    elif make == "open":
        notes.mkdir()
        os.chmod(notes, 0o755)
    elif make == "file":
        notes.write_text("x")
    else:
        notes = tmp_path / "missing" / "notes"
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(str(notes), "alice"))
    assert result["failed"] is True
    assert result["msg"].startswith("handover_dir: ") and fragment in result["msg"]
    assert api_calls.writes == []
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777
    if make == "open":
        assert stat.S_IMODE(os.stat(notes).st_mode) == 0o755


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("Hello {{ item.name }}, {{ item.email }}", "has no attribute 'email'"),
        ("Hello {{ item.name }}, sign in at {{ item.console_url }}", "does not show the temporary password"),
        ("{{ item.temporary_password }} {% if %}", "does not compile"),
        (None, "cannot be read"),
    ],
)
def test_a_broken_template_is_refused_before_any_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, tmp_path: t.Any, template: str | None, fragment: str
) -> None:
    path = tmp_path / "message.j2"
    if template is not None:
        path.write_text(template)
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(str(tmp_path / "notes"), "alice", message_template=str(path)))
    assert result["failed"] is True
    assert result["msg"].startswith("message_template: ") and fragment in result["msg"]
    assert api_calls.names == []
    assert not os.path.exists(tmp_path / "notes")


def test_guards_that_do_not_guard_are_refused_by_name_before_any_write(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, notes: str
) -> None:
    # moto does not load the AWS-managed policies here: a customer-managed one with PowerUserAccess's document.
    power = iam.create_policy(PolicyName="PowerUserAccess", PolicyDocument=json.dumps(POWER_USER))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="Developers", PolicyArn=power)
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice", onboarding_group="Developers"))
    assert result["failed"] is True
    assert "onboarding_group: the group Developers holds no policy with the MFA deny statement" in result["msg"]
    assert api_calls.writes == [] and not os.path.exists(notes)

    change = iam.create_policy(PolicyName="IAMUserChangePassword", PolicyDocument=json.dumps(CHANGE_PASSWORD))
    arn = change["Policy"]["Arn"]
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice", current_users_policy=arn))
    assert result["failed"] is True
    assert f"current_users_policy: {arn} does not carry the MFA deny statement" in result["msg"]
    assert [n for n in api_calls.names if is_write(n)] == []

    # The real guard with something more beside it: refused, naming what is more.
    iam.attach_group_policy(GroupName="NotYetLoginUsers", PolicyArn=power)
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice"))
    assert f"also holds {power}" in result["msg"]
    assert api_calls.writes == []


@pytest.mark.parametrize("key", [MARK, "MFA-Onboarding:Handover", "mfa-onboarding:expired"])
def test_the_collections_marks_cannot_be_set_by_hand(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, key: str
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "tags": {key: "delivered"}})
    assert result["failed"] is True
    assert result["msg"].startswith(f"tags of user alice: {key}: the mfa-onboarding:* tags are the collection's marks")
    assert api_calls.names == []


def test_all_pending_repairs_a_user_an_earlier_run_left_pending_even_when_not_listed(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, notes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _handover.FileChannel.deliver

    def broken(self: t.Any, name: str, *args: t.Any) -> None:
        raise _handover.HandoverError("cannot write the note: Read-only file system")

    monkeypatch.setattr(_handover.FileChannel, "deliver", broken)
    run_module(iam_onboard_user, file_args(notes, "bob", "carol"))
    assert (mark(iam, "bob"), mark(iam, "carol")) == ("pending", "pending")
    monkeypatch.setattr(_handover.FileChannel, "deliver", real)

    api_calls.clear()
    batch_of = [{"name": "alice"}, {"name": "carol"}]  # carol is in a later batch of the same list
    result = run_module(iam_onboard_user, file_args(notes, "alice", all_pending=True, batch_of=batch_of))
    assert [u["name"] for u in result["users"]] == ["alice", "bob"]
    bob = result["users"][1]
    assert bob["listed"] is False and bob["handover"] == "delivered"
    assert bob["summary"].endswith("(not listed: it waited for its handover since an earlier run)")
    assert note_password(os.path.join(notes, "bob.txt")) == iam_password("bob")
    assert mark(iam, "carol") == "pending"  # another run of the same job handles carol
    assert api_calls.names.count("GetAccountAuthorizationDetails") == 1

    # Without all_pending (the module's default), only the listed users are handled.
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice"))
    assert [u["name"] for u in result["users"]] == ["alice"] and api_calls.writes == []
    assert mark(iam, "carol") == "pending"


def test_a_bad_item_in_a_later_batch_refuses_the_first_batch_before_any_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, notes: str
) -> None:
    whole = [{"name": "alice"}, {"name": "bob"}, {"name": "bad name"}, {"name": "alice"}]
    api_calls.clear()
    result = run_module(iam_onboard_user, file_args(notes, "alice", "bob", batch_of=whole))
    assert result["failed"] is True and result["msg"].startswith("users[2].name: ")
    assert api_calls.names == [] and not os.path.exists(notes)
    result = run_module(iam_onboard_user, file_args(notes, "alice", "bob", batch_of=[whole[0], whole[1], whole[3]]))
    assert result["msg"] == "users[2].name: user alice is listed more than once"


def test_partial_notes_a_killed_run_left_are_removed_and_only_the_users_own(
    bootstrapped: t.Any, run_module: Run, notes: str
) -> None:
    run_module(iam_onboard_user, file_args(notes, "a", "a.b"))
    # A run killed while writing a's note leaves tempfile's partial file; a.b's name starts like it.
    for leftover in (".a.k3x9_q2z.tmp", ".a.b.abcdefgh.tmp"):
        with open(os.path.join(notes, leftover), "w", encoding="utf-8") as handle:
            handle.write("Temporary password:  old-and-worthless\n")
    result = run_module(iam_onboard_user, file_args(notes, "a"), check_mode=True)
    assert result["users"][0]["changed"] is True and len(os.listdir(notes)) == 4
    result = run_module(iam_onboard_user, file_args(notes, "a"))
    assert result["users"][0]["changed"] is True
    assert sorted(os.listdir(notes)) == [".a.b.abcdefgh.tmp", "a.b.txt", "a.txt"]
    result = run_module(iam_onboard_user, file_args(notes, "a.b"))
    assert sorted(os.listdir(notes)) == ["a.b.txt", "a.txt"]
