# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The role suites' moto server: one per test file (a server costs about 1 s to start), emptied for each test. A
file that keeps one account across its tests defines a module-scoped `server` of its own instead."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer


@pytest.fixture(scope="module")
def shared() -> t.Iterator[MotoServer]:
    """One moto server for the tests of a file; see `server`."""
    with MotoServer() as moto:
        yield moto


@pytest.fixture
def server(shared: MotoServer) -> MotoServer:
    """The shared server, emptied (a fresh account, without a password policy) and its recording cleared."""
    shared.reset()
    shared.reset_recording()
    return shared
