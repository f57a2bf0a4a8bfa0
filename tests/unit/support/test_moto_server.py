# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The moto server helper: loopback only, and request recordings (which hold request bodies, passwords
included) only when asked for, and never outside its private directory."""

from __future__ import annotations

import os
import typing as t

import boto3
import pytest

from ansible_collections.mfa_onboarding.iam.tests.support import moto_server


def _create_user(server: t.Any) -> None:
    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Not-a-real-Passw0rd!")


@pytest.mark.parametrize("inherited", [None, "false", "0", "true"])
def test_without_record_nothing_is_recorded_anywhere(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch, inherited: str | None
) -> None:
    # moto turns recording on for any value of MOTO_ENABLE_RECORDING, "false" included.
    monkeypatch.chdir(tmp_path)
    if inherited is None:
        monkeypatch.delenv("MOTO_ENABLE_RECORDING", raising=False)
    else:
        monkeypatch.setenv("MOTO_ENABLE_RECORDING", inherited)
    server = moto_server.MotoServer(record=False)
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        _create_user(server)
        private = os.listdir(server.directory)
    assert os.listdir(tmp_path) == []
    assert "recording.jsonl" not in private


def test_with_record_the_actions_are_counted(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with moto_server.MotoServer() as server:
        _create_user(server)
        assert server.actions() == ["CreateUser", "CreateLoginProfile"]
        assert moto_server.MotoServer.writes(server.actions()) == ["CreateUser", "CreateLoginProfile"]
    assert os.listdir(tmp_path) == []


def test_reset_forgets_the_resources_and_keeps_recording(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with moto_server.MotoServer() as server:
        _create_user(server)
        server.reset()
        iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
        assert iam.list_users()["Users"] == []
        assert server.actions() == ["CreateUser", "CreateLoginProfile", "ListUsers"]
