# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The adopt role through its playbook, on a mixed account (DESIGN section 1, Adopt; invariants 1, 2 and 4):

- legacy: a console password, a customer-managed allow-everything policy, an inline policy, a group, an active
  access key, no MFA (the admin of before the regime);
- erin: a console password and nothing else;
- svc: an access key and a read-only policy, no console password (an automation user);
- breakglass: a console password and the allow-everything policy (excluded);
- mia: a console password, an MFA device and a policy (adopted as promoted, nothing else touched);
- carol: an onboarding user, the "other user" of the policy evaluator's proof.

After adoption, the collection's policy evaluator (tests/support/policy_eval.py) proves invariant 2 for every
adopted user without MFA: on any other user it is allowed nothing, and on itself exactly what the guard alone
allows, for every IAM action (botocore's model), from a console session without MFA and with a long-term key.
"""

from __future__ import annotations

import json
import os
import typing as t

import botocore.session

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import Decision
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import Request
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import evaluate
from ansible_collections.mfa_onboarding.iam.tests.support.scenario import playbook
from ansible_collections.mfa_onboarding.iam.tests.support.scenario import stored_passwords
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

ACCOUNT = iam_state.ACCOUNT
GROUP = iam_state.ONBOARDING_GROUP
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
LEGACY_ADMIN = f"arn:aws:iam::{ACCOUNT}:policy/LegacyAdmin"
READ_ONLY = f"arn:aws:iam::{ACCOUNT}:policy/ReadOnly"
CONTEXTS = {"console-no-mfa": {"aws:MultiFactorAuthPresent": "false"}, "long-term-key": {}}
# Every IAM action, from botocore's service model, and STS's session call.
ACTIONS = [f"iam:{op}" for op in botocore.session.get_session().get_service_model("iam").operation_names]


def mixed_account(iam: t.Any) -> dict[str, str]:
    """The users above; returns the access key id of each user that has one."""
    iam.create_policy(PolicyName="LegacyAdmin", PolicyDocument=json.dumps(EVERYTHING))
    iam.create_policy(PolicyName="ReadOnly", PolicyDocument=json.dumps(iam_state.APP_READ_ONLY))
    iam.create_group(GroupName="Admins")
    keys = {}
    for name in ("legacy", "erin", "breakglass", "mia"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password=f"{name.title()}-own-Passw0rd!x", PasswordResetRequired=False)
    iam.add_user_to_group(UserName="legacy", GroupName="Admins")
    iam.attach_user_policy(UserName="legacy", PolicyArn=LEGACY_ADMIN)
    iam.put_user_policy(UserName="legacy", PolicyName="legacy-inline", PolicyDocument=json.dumps(EVERYTHING))
    keys["legacy"] = iam.create_access_key(UserName="legacy")["AccessKey"]["AccessKeyId"]
    iam.create_user(UserName="svc")
    iam.attach_user_policy(UserName="svc", PolicyArn=READ_ONLY)
    keys["svc"] = iam.create_access_key(UserName="svc")["AccessKey"]["AccessKeyId"]
    iam.attach_user_policy(UserName="breakglass", PolicyArn=LEGACY_ADMIN)
    register_mfa(iam, "mia")
    iam.attach_user_policy(UserName="mia", PolicyArn=READ_ONLY)
    iam.create_user(UserName="carol")
    iam.add_user_to_group(UserName="carol", GroupName=GROUP)
    iam.create_login_profile(UserName="carol", Password="Temporary-Passw0rd!x1", PasswordResetRequired=True)
    return keys


def holdings(iam: t.Any, name: str) -> dict[str, t.Any]:
    return {
        "groups": sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]),
        "policies": sorted(p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
        "inline": iam.list_user_policies(UserName=name)["PolicyNames"],
        "keys": [k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]],
    }


def beyond_the_guard(iam: t.Any, name: str, other: str) -> list[str]:
    """Where the user's policies allow anything on the other user, or more than the guard alone on its own user,
    its device and the other's device name: every IAM action, in each context without MFA.

    On the other user, only what the guard allows whatever the resource (account-level reads such as
    GetAccountPasswordPolicy, which take no resource) is not counted; a virtual device's name is not a user (with
    mfa_device_scope any the guard lets anyone create a device of any name), so there the guard is the measure."""
    documents = iam_state.identity_documents(iam, name)
    guard = [iam_state.managed_document(iam, iam_state.FIRST_LOGIN_ARN)]
    unrelated = f"arn:aws:iam::{ACCOUNT}:group/unrelated"
    found = []
    for context_name, context in CONTEXTS.items():
        for action in ACTIONS:
            anywhere = evaluate(guard, Request(name, action, unrelated, context)).decision is Decision.ALLOW
            for resource in (
                f"arn:aws:iam::{ACCOUNT}:user/{other}",
                f"arn:aws:iam::{ACCOUNT}:mfa/{other}",
                f"arn:aws:iam::{ACCOUNT}:user/{name}",
                f"arn:aws:iam::{ACCOUNT}:mfa/{name}",
            ):
                request = Request(name, action, resource, context)
                if evaluate(documents, request).decision is not Decision.ALLOW:
                    continue
                if resource.endswith(f":user/{other}"):
                    allowed = anywhere
                else:
                    allowed = evaluate(guard, request).decision is Decision.ALLOW
                if not allowed:
                    found.append(f"{context_name}: {action} on {resource}")
    return found


def test_adopt_a_mixed_account_and_prove_nothing_before_mfa(tmp_path: t.Any, server: MotoServer) -> None:
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    report = tmp_path / "adopt.json"
    adopt = {"adopt_all": True, "adopt_exclude": ["BreakGlass"], "adopt_report_path": str(report)}
    iam_state.bootstrapped(server.iam_client())  # as the bootstrap role leaves it (test_bootstrap_password_policy)
    iam = server.iam_client()
    keys = mixed_account(iam)
    passwords = stored_passwords(server.url)
    before = {name: holdings(iam, name) for name in ("svc", "breakglass", "mia")}
    # Before adoption the evaluator finds the hole the issue names: legacy's key enrols a device for carol.
    assert "long-term-key: iam:EnableMFADevice on arn:aws:iam::123456789012:user/carol" in beyond_the_guard(
        iam, "legacy", "carol"
    )

    server.reset_recording()
    rc, out = playbook(server, "adopt", adopt, "--check", "--diff")
    assert rc == 0, out[-3000:]
    assert MotoServer.writes(server.actions()) == []
    assert not report.exists()
    assert "legacy: onboarding, would take away before MFA: 1 access key; policies " in out
    assert "planned: AddUserToGroup NotYetLoginUsers, UpdateAccessKey " in out

    server.reset_recording()
    rc, out = playbook(server, "adopt", adopt)
    assert rc == 0, out[-3000:]
    writes = MotoServer.writes(server.actions())
    # legacy: guard, key, policies, group (invariant 1 order); erin: the guard; mia: promoted in place.
    legacy = ["AddUserToGroup", "UpdateAccessKey", "DetachUserPolicy", "DeleteUserPolicy", "RemoveUserFromGroup"]
    assert sorted(writes) == sorted([*legacy, "AddUserToGroup", "AttachUserPolicy"])
    legacy_writes = [w for w in writes if w not in ("AttachUserPolicy",)]
    assert legacy_writes.index("UpdateAccessKey") > 0
    results = {r["name"]: r for r in json.loads(report.read_text())}
    assert oct(os.stat(report).st_mode & 0o777) == "0o600"

    assert results["legacy"]["stage"] == "onboarding"
    assert results["legacy"]["console_password"] == "kept"
    assert results["legacy"]["detached"] == {
        "access_keys": [keys["legacy"]],
        "policies": [LEGACY_ADMIN],
        "inline_policies": {"legacy-inline": EVERYTHING},
        "groups": ["Admins"],
    }
    assert holdings(iam, "legacy") == {"groups": [GROUP], "policies": [], "inline": [], "keys": ["Inactive"]}
    assert results["erin"]["detached"] is None and results["erin"]["stage"] == "onboarding"
    assert holdings(iam, "erin")["groups"] == [GROUP]
    assert results["mia"]["stage"] == "promoted"
    assert holdings(iam, "mia")["policies"] == sorted([READ_ONLY, iam_state.CURRENT_USERS_ARN])
    assert results["svc"]["skipped"] and "has no console password" in results["svc"]["reason"]
    assert results["breakglass"]["skipped"] and results["breakglass"]["reason"] == "excluded by adopt_exclude"
    assert {name: holdings(iam, name) for name in ("svc", "breakglass")} == {
        "svc": before["svc"],
        "breakglass": before["breakglass"],
    }
    assert "carol" not in results
    # Passwords are kept: moto's stored passwords did not change.
    assert stored_passwords(server.url) == passwords
    for name in ("legacy", "erin"):
        assert beyond_the_guard(iam, name, "carol") == [], name

    # A rerun changes nothing.
    server.reset_recording()
    rc, out = playbook(server, "adopt", adopt)
    assert rc == 0, out[-3000:]
    assert MotoServer.writes(server.actions()) == []

    # The automation user, named: guarded, key off, policy gone, and still no password.
    rc, out = playbook(server, "adopt", {"adopt_users": ["svc"], "adopt_report_path": str(report)})
    assert rc == 0, out[-3000:]
    (svc,) = json.loads(report.read_text())
    assert svc["console_password"] == "none" and svc["detached"]["access_keys"] == [keys["svc"]]
    assert holdings(iam, "svc") == {"groups": [GROUP], "policies": [], "inline": [], "keys": ["Inactive"]}
    assert "svc has no console password; onboard it to issue a temporary password" in out
    assert "svc" not in stored_passwords(server.url)
    assert beyond_the_guard(iam, "svc", "carol") == []


def test_adopt_detach_off_refuses_and_leaves_the_user_untouched(tmp_path: t.Any, server: MotoServer) -> None:
    iam_state.bootstrapped(server.iam_client())  # as the bootstrap role leaves it (test_bootstrap_password_policy)
    iam = server.iam_client()
    mixed_account(iam)
    before = holdings(iam, "legacy")
    server.reset_recording()
    rc, out = playbook(server, "adopt", {"adopt_users": ["legacy", "erin", "ghost"], "adopt_detach": False})
    assert rc != 0
    assert "adoption refused or failed for legacy, ghost" in out
    assert "user legacy has no MFA device and holds groups Admins; policies " + LEGACY_ADMIN in out
    assert "user ghost does not exist; adoption takes existing users only" in out
    assert holdings(iam, "legacy") == before
    # erin holds nothing beyond what the guard allows: adopted (the guard only).
    assert MotoServer.writes(server.actions()) == ["AddUserToGroup"]
    assert holdings(iam, "erin")["groups"] == [GROUP]
