# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The whole IAM state of the account as plain data, the two security invariants checked over it, and the
bootstrap that the fault suites start from.

The checker is written independently of the collection's own lifecycle code, so that a mistake there cannot hide
itself here.
"""

from __future__ import annotations

import json
import os
import sys
import typing as t

import boto3
import botocore.config

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import dump
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools"))
import iam_user_sim

# What the owner does at the first sign-in, shared with the other suites (tools/iam_user_sim.py).
register_mfa = iam_user_sim.register_mfa

ACCOUNT = "123456789012"  # moto's default account id
ONBOARDING_GROUP = "NotYetLoginUsers"
FIRST_LOGIN = "MFARequiredOnlyForTheFirstLogin"
CURRENT_USERS = "MFARequiredForCurrentUsers"
FIRST_LOGIN_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{FIRST_LOGIN}"
CURRENT_USERS_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{CURRENT_USERS}"
EXTRA_GROUP = "Developers"
EXTRA_POLICY = "AppReadOnly"
EXTRA_POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{EXTRA_POLICY}"
APP_READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"}],
}


def client(url: str) -> t.Any:
    """The tests' own IAM client on the fault point (no retries of its own: it runs with the fault point off)."""
    return boto3.client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def bootstrap_guards(iam: t.Any) -> None:
    """The two guard policies (rendered from the bundled official document) and the onboarding group."""
    iam.create_policy(PolicyName=FIRST_LOGIN, PolicyDocument=dump(render(official_document(), "first_login")))
    iam.create_policy(PolicyName=CURRENT_USERS, PolicyDocument=dump(render(official_document(), "current_users")))
    iam.create_group(GroupName=ONBOARDING_GROUP)
    iam.attach_group_policy(GroupName=ONBOARDING_GROUP, PolicyArn=FIRST_LOGIN_ARN)


def create_extras(iam: t.Any) -> None:
    """A group and a customer-managed policy for promotions to grant."""
    iam.create_group(GroupName=EXTRA_GROUP)
    iam.create_policy(PolicyName=EXTRA_POLICY, PolicyDocument=json.dumps(APP_READ_ONLY))


def _all(iam: t.Any, operation: str, key: str, **params: t.Any) -> list[t.Any]:
    return list(iam.get_paginator(operation).paginate(**params).build_full_result()[key])


def _has_login_profile(iam: t.Any, user: str) -> bool:
    try:
        iam.get_login_profile(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def snapshot(iam: t.Any) -> dict[str, t.Any]:
    """Every user, group and customer-managed policy, without dates, ids or passwords."""
    users = {}
    for user in _all(iam, "list_users", "Users"):
        name = user["UserName"]
        tags = iam.list_user_tags(UserName=name)["Tags"]
        users[name] = {
            "path": user["Path"],
            "groups": sorted(g["GroupName"] for g in _all(iam, "list_groups_for_user", "Groups", UserName=name)),
            "policies": sorted(
                p["PolicyArn"] for p in _all(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name)
            ),
            "inline_policies": sorted(_all(iam, "list_user_policies", "PolicyNames", UserName=name)),
            "login_profile": _has_login_profile(iam, name),
            "access_keys": len(_all(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)),
            "mfa_devices": sorted(
                d["SerialNumber"] for d in _all(iam, "list_mfa_devices", "MFADevices", UserName=name)
            ),
            "tags": {tag["Key"]: tag["Value"] for tag in tags},
        }
    groups = {}
    for group in _all(iam, "list_groups", "Groups"):
        name = group["GroupName"]
        groups[name] = {
            "policies": sorted(
                p["PolicyArn"] for p in _all(iam, "list_attached_group_policies", "AttachedPolicies", GroupName=name)
            ),
            "inline_policies": sorted(_all(iam, "list_group_policies", "PolicyNames", GroupName=name)),
        }
    policies = {}
    for policy in _all(iam, "list_policies", "Policies", Scope="Local"):
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        policies[policy["Arn"]] = {
            "default_version_id": policy["DefaultVersionId"],
            "document": version["PolicyVersion"]["Document"],
        }
    return {"users": users, "groups": groups, "policies": policies}


def guarded(state: dict[str, t.Any], name: str) -> bool:
    """Covered by an MFA guard: member of the onboarding group, or the current-users policy attached to the user
    or to one of its groups."""
    user = state["users"][name]
    if ONBOARDING_GROUP in user["groups"] or CURRENT_USERS_ARN in user["policies"]:
        return True
    return any(CURRENT_USERS_ARN in state["groups"][group]["policies"] for group in user["groups"])


def violations(state: dict[str, t.Any]) -> list[str]:
    """Every breach of invariants 1 and 2 over the whole state, one message each; [] when the account is safe.

    1. Every user with a console password or an access key is covered by an MFA guard.
    2. A user without an MFA device holds nothing beyond the guards: no policy attached to it, no inline policy,
       no group but the onboarding group, and that group itself carries only the first-login policy.
    """
    found = []
    for name, user in sorted(state["users"].items()):
        credentials = [what for what, held in (("console password", user["login_profile"]),
                                               ("access key", user["access_keys"])) if held]  # fmt: skip
        if credentials and not guarded(state, name):
            found.append(f"invariant 1: user {name} holds {' and '.join(credentials)} without an MFA guard")
        if user["mfa_devices"]:
            continue
        if user["policies"]:
            found.append(f"invariant 2: user {name} has no MFA but policies {user['policies']} attached")
        if user["inline_policies"]:
            found.append(f"invariant 2: user {name} has no MFA but inline policies {user['inline_policies']}")
        extra_groups = [g for g in user["groups"] if g != ONBOARDING_GROUP]
        if extra_groups:
            found.append(f"invariant 2: user {name} has no MFA but is a member of {extra_groups}")
        if ONBOARDING_GROUP in user["groups"]:
            group = state["groups"][ONBOARDING_GROUP]
            beyond = [p for p in group["policies"] if p != FIRST_LOGIN_ARN] + group["inline_policies"]
            if beyond:
                found.append(f"invariant 2: user {name} has no MFA and {ONBOARDING_GROUP} grants {beyond}")
    return found
