# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The account the security suites start from (the guards as the bootstrap role leaves them, a group and a policy
for promotions to grant), and the whole IAM state of an account as plain data (`snapshot`), which `guards`
checks and the suites compare.
"""

from __future__ import annotations

import json
import typing as t

import botocore.config

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import dump
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import iam_client

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
    return iam_client(url, config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))


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
