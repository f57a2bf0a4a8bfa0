# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The account the security suites start from (the guards as the bootstrap role leaves them, a group and a policy
for promotions to grant), and the whole IAM state of an account as plain data (`snapshot`), which `guards`
checks and the suites compare.
"""

from __future__ import annotations

import datetime
import json
import typing as t
import urllib.parse

import botocore.config

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import default_description
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import LIVE_ALL
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import read_account
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


OWN_USER = "arn:aws:iam::*:user/${aws:username}"
ANY_PATH_USER = "arn:aws:iam::*:user/*/${aws:username}"


def at_any_path(document: dict[str, t.Any]) -> dict[str, t.Any]:
    """A base document whose self-service statements (those on user/${aws:username}) also name
    user/*/${aws:username}, so that users at a path can change their password and register MFA: what an operator
    gives the bootstrap role as its base document to onboard users at paths."""
    document = json.loads(json.dumps(document))
    for statement in document["Statement"]:
        resources = statement.get("Resource")
        if statement.get("Effect") == "Allow" and resources == OWN_USER:
            statement["Resource"] = [OWN_USER, ANY_PATH_USER]
    return document


def bootstrap_guards(iam: t.Any, any_path: bool = False) -> None:
    """The two guard policies (rendered from the bundled official document, or with any_path from at_any_path of
    it) and the onboarding group."""
    base = at_any_path(official_document()) if any_path else official_document()
    iam.create_policy(PolicyName=FIRST_LOGIN, PolicyDocument=dump(render(base, "first_login")))
    iam.create_policy(PolicyName=CURRENT_USERS, PolicyDocument=dump(render(base, "current_users")))
    iam.create_group(GroupName=ONBOARDING_GROUP)
    iam.attach_group_policy(GroupName=ONBOARDING_GROUP, PolicyArn=FIRST_LOGIN_ARN)


# The account password policy that the bootstrap role sets, with its defaults, on an account that has none: the CIS
# AWS Foundations floor, and users may change their own password.
BOOTSTRAP_PASSWORD_POLICY = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "PasswordReusePrevention": 24,
    "HardExpiry": False,
}


def bootstrapped(iam: t.Any) -> None:
    """What `ansible-playbook mfa_onboarding.iam.bootstrap` with its defaults leaves on a fresh account, through
    boto3 (a fraction of a second instead of a playbook run): the guards with the descriptions the role gives new
    policies, the onboarding group, the password policy. For the suites whose subject is another role;
    tests/integration/roles/test_bootstrap_password_policy.py proves it equal to the role's result."""
    base = official_document()
    today = datetime.datetime.now(datetime.timezone.utc).date()  # as the module dates a new policy
    for name, kind in ((FIRST_LOGIN, "first_login"), (CURRENT_USERS, "current_users")):
        iam.create_policy(
            PolicyName=name,
            PolicyDocument=dump(render(base, kind)),
            Description=default_description(kind, today),
        )
    iam.create_group(GroupName=ONBOARDING_GROUP)
    iam.attach_group_policy(GroupName=ONBOARDING_GROUP, PolicyArn=FIRST_LOGIN_ARN)
    iam.update_account_password_policy(**BOOTSTRAP_PASSWORD_POLICY)


def create_extras(iam: t.Any) -> None:
    """A group and a customer-managed policy for promotions to grant."""
    iam.create_group(GroupName=EXTRA_GROUP)
    iam.create_policy(PolicyName=EXTRA_POLICY, PolicyDocument=json.dumps(APP_READ_ONLY))


def snapshot(iam: t.Any) -> dict[str, t.Any]:
    """Every user, group and customer-managed policy, without dates, ids or passwords.

    Read with the collection's one reader of IAM state (_observe_account.read_account, every user read live), so
    that the suites see what the modules see; the judgement of that state (guards.py) is written independently."""
    account = read_account(iam, ONBOARDING_GROUP, CURRENT_USERS, live=LIVE_ALL)
    users = {
        user.name: {
            "path": user.path,
            "groups": sorted(user.groups or ()),
            "policies": sorted(user.managed_policies or ()),
            "inline_policies": sorted(user.inline_policies or ()),
            "login_profile": bool(user.console_password),
            "access_keys": len(user.access_keys or ()),
            "active_access_keys": sum(key.status == "Active" for key in user.access_keys or ()),
            "mfa_devices": sorted(device.serial_number for device in user.mfa_devices or ()),
            "tags": dict(user.tags),
        }
        for user in account.users
        if user.exists
    }
    groups = {
        name: {"policies": sorted(group.managed_policies), "inline_policies": sorted(group.inline_policies)}
        for name, group in account.groups.items()
    }
    policies = {
        arn: {"default_version_id": policy.default_version_id, "document": policy.document}
        for arn, policy in account.policies.items()
    }
    return {"users": users, "groups": groups, "policies": policies}


def _decoded(document: t.Any) -> dict[str, t.Any]:
    """A policy document as boto3 returns it: a dict, or (URL-encoded) JSON text."""
    if isinstance(document, str):
        return json.loads(urllib.parse.unquote(document))
    return document


def managed_document(iam: t.Any, arn: str) -> dict[str, t.Any]:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _decoded(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def identity_documents(iam: t.Any, name: str) -> list[dict[str, t.Any]]:
    """Every identity-based policy document that applies to a user, for the policy evaluator: the managed and
    inline policies of each of its groups, then its own attached and inline policies."""
    documents = []
    for group in iam.list_groups_for_user(UserName=name)["Groups"]:
        group_name = group["GroupName"]
        for policy in iam.list_attached_group_policies(GroupName=group_name)["AttachedPolicies"]:
            documents.append(managed_document(iam, policy["PolicyArn"]))
        for policy_name in iam.list_group_policies(GroupName=group_name)["PolicyNames"]:
            documents.append(
                _decoded(iam.get_group_policy(GroupName=group_name, PolicyName=policy_name)["PolicyDocument"])
            )
    for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        documents.append(managed_document(iam, policy["PolicyArn"]))
    for policy_name in iam.list_user_policies(UserName=name)["PolicyNames"]:
        documents.append(_decoded(iam.get_user_policy(UserName=name, PolicyName=policy_name)["PolicyDocument"]))
    return documents
