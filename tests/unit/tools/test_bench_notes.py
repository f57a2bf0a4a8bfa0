# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tools/bench.py's read-back of a file handover: one note per user and nothing else, mode 0600, in a directory of
mode 0700, each with one password line, no two alike. Anything else stops the bench."""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tools import bench

USERS = ["alice", "bob"]


def notes(tmp_path: t.Any, **texts: str) -> str:
    directory = tmp_path / "notes"
    directory.mkdir(mode=0o700)
    os.chmod(directory, 0o700)
    for user in USERS:
        path = directory / f"{user}.txt"
        path.write_text(texts.get(user, f"User name: {user}\n  Temporary password:  Pw-{user}-1!\n"), encoding="utf-8")
        os.chmod(path, 0o600)
    return str(directory)


def test_one_note_per_user_passes(tmp_path: t.Any) -> None:
    bench.Bench.check_notes(USERS, notes(tmp_path))


@pytest.mark.parametrize(
    ("spoil", "error"),
    [
        (lambda d: os.chmod(d, 0o750), r"notes is not a directory of mode 0700: drwxr-x---"),
        (lambda d: os.remove(os.path.join(d, "bob.txt")), r"not one per user: missing \['bob.txt'\], unexpected \[\]"),
        (
            lambda d: open(os.path.join(d, "bob.txt.2026-01-01@00:00~"), "w").close(),  # a backup: a second note
            r"not one per user: missing \[\], unexpected \['bob.txt.2026-01-01@00:00~'\]",
        ),
        (lambda d: os.chmod(os.path.join(d, "alice.txt"), 0o640), r"alice.txt is not a file of mode 0600: -rw-r-----"),
    ],
)
def test_a_bad_handover_is_named(tmp_path: t.Any, spoil: t.Callable[[str], t.Any], error: str) -> None:
    directory = notes(tmp_path)
    spoil(directory)
    with pytest.raises(SystemExit, match=error):
        bench.Bench.check_notes(USERS, directory)


@pytest.mark.parametrize(
    ("texts", "error"),
    [
        ({"bob": "User name: bob\n"}, r"bob.txt has 0 password lines, not one"),
        ({"bob": "Temporary password:\n"}, r"bob.txt has 0 password lines, not one"),
        ({"bob": "Temporary password: a\nTemporary password: b\n"}, r"bob.txt has 2 password lines, not one"),
        (
            {"alice": "Temporary password: same\n", "bob": "Temporary password: same\n"},
            r"hold 1 different passwords for 2 users",
        ),
    ],
)
def test_a_note_without_its_own_password_is_named(tmp_path: t.Any, texts: dict[str, str], error: str) -> None:
    with pytest.raises(SystemExit, match=error):
        bench.Bench.check_notes(USERS, notes(tmp_path, **texts))


def test_a_missing_directory_or_a_symbolic_link_is_named(tmp_path: t.Any) -> None:
    with pytest.raises(SystemExit, match=r"no directory of notes at .*absent"):
        bench.Bench.check_notes(USERS, str(tmp_path / "absent"))
    link = tmp_path / "link"
    link.symlink_to(notes(tmp_path))
    with pytest.raises(SystemExit, match=r"link is not a directory of mode 0700: l"):
        bench.Bench.check_notes(USERS, str(link))
