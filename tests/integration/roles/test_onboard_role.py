# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The onboard role through its playbook (invariant 5 and progress): --check --diff prints every user's planned
steps, where its password would go and its before and after, and writes nothing; a run in batches prints one
progress line per batch; the real run then makes the steps check mode announced."""

from __future__ import annotations

import os
import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.scenario import playbook

USERS = [f"u{i:02d}" for i in range(5)]


def test_check_and_diff_show_every_step_and_the_run_in_batches_shows_progress(tmp_path: t.Any) -> None:
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    notes = str(tmp_path / "notes")
    onboard = {
        "onboard_users": [{"name": name} for name in USERS],
        "onboard_delivery": "file",
        "onboard_handover_dir": notes,
        "onboard_batch_size": 2,
    }
    with MotoServer() as server:
        iam_state.bootstrapped(server.iam_client())  # as the bootstrap role leaves it (test_bootstrap_password_policy)
        server.reset_recording()
        rc, out = playbook(server, "onboard", onboard, "--check", "--diff")
        assert rc == 0, out[-3000:]
        assert MotoServer.writes(server.actions()) == []
        assert not os.path.exists(notes)
        for name in USERS:
            note = f"{notes}/{name}.txt"
            assert (
                f"{name}: onboarding, a new temporary password would be issued and handed over by file to {note}, "
                f"changed; planned: CreateUser mfa-onboarding:handover, AddUserToGroup NotYetLoginUsers, "
                f"CreateLoginProfile, Handover by file to {note}, TagUser mfa-onboarding:handover"
            ) in out
            assert f"+++ after: {name}" in out
        assert out.count('"mfa-onboarding:handover": "delivered"') == len(USERS)  # each user's diff, after
        for batch, (first, last) in enumerate([("u00", "u01"), ("u02", "u03"), ("u04", "u04")], start=1):
            assert f"(item=batch {batch} of 3: {first} to {last})" in out

        server.reset_recording()
        rc, out = playbook(server, "onboard", onboard)
        assert rc == 0, out[-3000:]
        writes = MotoServer.writes(server.actions())
        assert sorted(writes) == sorted(["CreateUser", "AddUserToGroup", "CreateLoginProfile", "TagUser"] * len(USERS))
        assert sorted(os.listdir(notes)) == [f"{name}.txt" for name in USERS]
        assert "censored" not in out
