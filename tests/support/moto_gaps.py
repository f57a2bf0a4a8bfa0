# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What in-process moto does not implement, answered as AWS would for an account that has none of it.

moto (5.x) has no service-specific credentials: `ListServiceSpecificCredentials` raises NotImplementedError
inside moto. The collection lists them for every user it disables or offboards, as AWS requires. This stand-in
answers the listing with an empty list, as AWS does for a user without such credentials, and lets every other
call through. Tests that need a user *with* service-specific credentials use tests/support/strict_iam.py's
stand-in instead.
"""

from __future__ import annotations

import typing as t

import botocore.client
import pytest

ANSWERS: dict[str, dict[str, t.Any]] = {
    "ListServiceSpecificCredentials": {"ServiceSpecificCredentials": []},
}


def attach(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = botocore.client.BaseClient._make_api_call

    def call(client: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
        if client.meta.service_model.service_name == "iam" and operation in ANSWERS:
            return dict(ANSWERS[operation], ResponseMetadata={"HTTPStatusCode": 200})
        return inner(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
