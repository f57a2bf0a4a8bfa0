# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bad input, through the modules and through the roles' playbooks (issue 5, item 3).

Each case asserts three things:

- the run fails with a message that names the input and the problem (a specific fragment of it);
- the write calls it made: none for every input that validation can catch before acting (counted by a recorder
  of every botocore call for the in-process module runs, and by moto's request recorder for the playbook runs);
- nothing that was already in the account is lost (a snapshot of users, groups, policies and their versions,
  memberships, attachments, console passwords, MFA devices, tags and the password policy, before and after);
- where a case's input is outside IAM (a handover directory, a mail address), what is there is checked too: a
  directory's mode kept and nothing written into it, no connection to the mail host.

The module cases run in-process against an in-process moto, as tests/unit does; the playbook cases run
`ansible-playbook mfa_onboarding.iam.<playbook>` with extra vars against a moto server on loopback (one per
pytest-xdist worker, reset before each case). Once every case has run, the last one prints the table.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
import types
import typing as t

import pytest
from botocore.exceptions import ClientError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import LIVE_ALL
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import read_account
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import free_port
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import writes
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

COLLECTION_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))

# IAM state: set up, snapshot, compare.


def snapshot(iam: t.Any) -> dict[str, t.Any]:
    """Everything in the account that the collection could touch, comparable with ==. The users come from the
    collection's one reader of IAM state (every user read live); policy versions and the password policy beside."""
    account = read_account(iam, iam_state.ONBOARDING_GROUP, iam_state.CURRENT_USERS, live=LIVE_ALL)
    users = {
        user.name: {
            "path": user.path,
            "groups": sorted(user.groups or ()),
            "policies": sorted(user.managed_policies or ()),
            "inline": sorted(user.inline_policies or ()),
            "console_password": bool(user.console_password),
            "mfa": sorted(device.serial_number for device in user.mfa_devices or ()),
            "access_keys": sorted(key.access_key_id for key in user.access_keys or ()),
            "tags": sorted(user.tags),
        }
        for user in account.users
        if user.exists
    }
    groups = {
        g["GroupName"]: sorted(
            p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName=g["GroupName"])["AttachedPolicies"]
        )
        for g in iam.list_groups()["Groups"]
    }
    policies = {}
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
        default = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        policies[policy["PolicyName"]] = {
            "versions": sorted(v["VersionId"] for v in versions),
            "default": policy["DefaultVersionId"],
            "document": default["PolicyVersion"]["Document"],
        }
    try:
        password_policy = iam.get_account_password_policy()["PasswordPolicy"]
    except ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchEntity":
            raise
        password_policy = None
    return {"users": users, "groups": groups, "policies": policies, "password_policy": password_policy}


def setup_account(iam: t.Any, kind: str) -> None:
    """Put the account into a known state before a case.

    - `fresh`: nothing.
    - `bootstrapped`: what the bootstrap role leaves (both policies rendered from the bundled document, group
      NotYetLoginUsers with the first attached, password policy with a 14-character minimum and symbols), a group
      Developers and a policy AppReadOnly to grant, and users that must survive every case untouched: `olga`
      (promoted: MFA, the current-users policy, Developers, tags), `rita` (onboarding, MFA registered, so ready)
      and `dave` (onboarding, no MFA).
    """
    if kind == "fresh":
        return
    iam_state.bootstrap_guards(iam)
    iam_state.create_extras(iam)
    iam.update_account_password_policy(
        MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True, AllowUsersToChangePassword=True
    )
    iam.create_user(UserName="olga", Tags=[{"Key": "team", "Value": "data"}])
    iam.create_login_profile(UserName="olga", Password="Olga-Passw0rd!-long")
    register_mfa(iam, "olga")
    iam.attach_user_policy(UserName="olga", PolicyArn=iam_state.CURRENT_USERS_ARN)
    iam.add_user_to_group(UserName="olga", GroupName="Developers")
    for name in ("rita", "dave"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(UserName=name, GroupName="NotYetLoginUsers")
        iam.create_login_profile(UserName=name, Password=f"{name.title()}-Passw0rd!-long", PasswordResetRequired=True)
    register_mfa(iam, "rita")


# The playbook runs: ansible-playbook against a moto server of this worker.


@dataclasses.dataclass
class PlaybookRun:
    rc: int
    message: str
    stdout: str
    stderr: str


def ansible_env(base: dict[str, str]) -> dict[str, str]:
    """The environment of an ansible-playbook run: the interpreter's bin directory first on PATH (the venv, as the
    Makefile puts it there), the collections path of this run, no colours, no warnings about the implicit
    localhost."""
    env = dict(base)
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.normpath(
        os.path.join(COLLECTION_ROOT, "..", "..", "..")
    )
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections,
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_STDOUT_CALLBACK="default",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    env.pop("ANSIBLE_LOG_PATH", None)
    return env


FATAL = "fatal: [localhost]: FAILED! => "


def run_playbook(playbook: str, extra_vars: dict[str, t.Any], env: dict[str, str], workdir: str) -> PlaybookRun:
    """ansible-playbook mfa_onboarding.iam.<playbook> -e @vars.json; the message is that of the last fatal task."""
    vars_file = os.path.join(workdir, "extra_vars.json")
    with open(vars_file, "w", encoding="utf-8") as handle:
        json.dump(extra_vars, handle)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), f"mfa_onboarding.iam.{playbook}"]
    process = subprocess.run(
        [*command, "-e", f"@{vars_file}"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    message = ""
    for line in process.stdout.splitlines():
        if line.startswith(FATAL):
            message = str(json.loads(line[len(FATAL) :]).get("msg", ""))
    return PlaybookRun(process.returncode, message, process.stdout, process.stderr)


# The cases.


VALIDATION = "refused before any write"

NOT_MFA_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ReadOnly", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"}],
}
MALFORMED_JSON = '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny",'
# The deny-unless-MFA statement under a Sid that self_enrollment=guarded owns: refused under either value.
RESERVED_SID_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyMFADeviceChangesWithoutMFA",
            "Effect": "Deny",
            "NotAction": ["sts:GetSessionToken"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ],
}
BAD_PASSWORD = "Short1a"  # 7 characters, no symbol: the account wants 14 and a symbol


def wildcard_document() -> dict[str, t.Any]:
    """The official document with a NotAction wildcard that would exempt iam:ChangePassword from the MFA deny."""
    from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document

    document = official_document()
    document["Statement"][-1]["NotAction"].append("iam:*Password*")
    return document


@dataclasses.dataclass
class Case:
    id: str
    case: str
    setup: str  # "fresh" or "bootstrapped", see setup_account
    fragments: tuple[str, ...]  # each must be in the message
    expected: str = VALIDATION
    writes: tuple[str, ...] = ()  # the write calls expected, in order
    absent: tuple[str, ...] = ()  # none may be in the message
    no_calls: bool = False  # refused before any API call at all, reads included
    # moto loads the AWS-managed policies (PowerUserAccess, ...): a few seconds more, so only where a case needs them
    aws_managed_policies: bool = False
    # after setup_account and before the snapshot: arrange(iam, ctx) changes the account or the file system
    arrange: t.Callable[[t.Any, types.SimpleNamespace], None] | None = None
    # after the run, with the other assertions: verify(ctx) checks what is outside IAM (modes, mails, files)
    verify: t.Callable[[types.SimpleNamespace], None] | None = None
    # users of the list that the run promotes all the same (one user's bad input fails that user only): their
    # writes are the case's `writes`, and they are checked promoted instead of unchanged
    promoted: tuple[str, ...] = ()


@dataclasses.dataclass
class ModuleCase(Case):
    module: str = "iam_onboard_user"
    # the module's arguments, or a function of the context (tmp, mail trap) that returns them
    args: dict[str, t.Any] | t.Callable[[types.SimpleNamespace], dict[str, t.Any]] = dataclasses.field(
        default_factory=dict
    )


@dataclasses.dataclass
class PlaybookCase(Case):
    playbook: str = "onboard"
    # extra vars, or a function of the context (tmp_path, smtp server, closed port) that returns them
    extra_vars: dict[str, t.Any] | t.Callable[[types.SimpleNamespace], dict[str, t.Any]] = dataclasses.field(
        default_factory=dict
    )
    env: str = "moto"  # "moto", "wrong_endpoint" or "no_credentials"
    new_users: tuple[str, ...] = ()  # users the run may create (then checked to be guarded)


# The handover's inputs (DESIGN section 4) and the guards' (invariant 7).

POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"
# AWS-managed: lets a user change its own password, and requires no MFA for anything.
CHANGE_PASSWORD_ONLY = "arn:aws:iam::aws:policy/IAMUserChangePassword"
SENDER = "it@example.org"


def by_file(ctx: types.SimpleNamespace, **extra_vars: t.Any) -> dict[str, t.Any]:
    """The onboard role's extra vars with file delivery into {tmp}/notes, plus extra_vars: what a case gives when its
    bad input is elsewhere (onboard_delivery has no default)."""
    return {"onboard_delivery": "file", "onboard_handover_dir": f"{ctx.tmp}/notes", **extra_vars}


def by_mail(ctx: types.SimpleNamespace, **extra_vars: t.Any) -> dict[str, t.Any]:
    """The onboard role's extra vars with mail delivery from a valid sender to the mail trap, plus extra_vars."""
    return {
        "onboard_delivery": "mail",
        "onboard_mail_host": ctx.trap.host,
        "onboard_mail_port": ctx.trap.port,
        "onboard_mail_from": SENDER,
        **extra_vars,
    }


def mail_args(ctx: types.SimpleNamespace, **args: t.Any) -> dict[str, t.Any]:
    """iam_onboard_user's arguments for mail handover to the mail trap, plus args."""
    return {"handover": "mail", "mail_host": ctx.trap.host, "mail_port": ctx.trap.port, "mail_from": SENDER, **args}


def attach_power_user(group: str) -> t.Callable[[t.Any, types.SimpleNamespace], None]:
    def arrange(iam: t.Any, ctx: types.SimpleNamespace) -> None:
        iam.attach_group_policy(GroupName=group, PolicyArn=POWER_USER)

    return arrange


def write_template(name: str, text: str) -> t.Callable[[t.Any, types.SimpleNamespace], None]:
    def arrange(iam: t.Any, ctx: types.SimpleNamespace) -> None:
        with open(os.path.join(ctx.tmp, name), "w", encoding="utf-8") as handle:
            handle.write(text)

    return arrange


def shared_directory_behind_link(iam: t.Any, ctx: types.SimpleNamespace) -> None:
    """{tmp}/notes is a symbolic link to {tmp}/shared, a directory that everyone may write to (like /tmp)."""
    target = os.path.join(ctx.tmp, "shared")
    os.mkdir(target)
    os.chmod(target, 0o1777)
    os.symlink(target, os.path.join(ctx.tmp, "notes"))


def open_notes_directory(iam: t.Any, ctx: types.SimpleNamespace) -> None:
    """{tmp}/notes exists with mode 0755: everyone may read what it holds."""
    path = os.path.join(ctx.tmp, "notes")
    os.mkdir(path)
    os.chmod(path, 0o755)


def mode_kept(name: str, mode: int) -> t.Callable[[types.SimpleNamespace], None]:
    """The directory {tmp}/<name> still has its mode, and nothing was written into it."""

    def verify(ctx: types.SimpleNamespace) -> None:
        path = os.path.join(ctx.tmp, name)
        assert stat.S_IMODE(os.lstat(path).st_mode) == mode, f"{path}: {os.lstat(path).st_mode:o}"
        assert os.listdir(path) == [], os.listdir(path)

    return verify


def nothing_sent(ctx: types.SimpleNamespace) -> None:
    assert ctx.trap.connections == 0, f"{ctx.trap.connections} connections to the mail host"


def shadow_read_only_access(iam: t.Any, ctx: types.SimpleNamespace) -> None:
    """A customer-managed ReadOnlyAccess that allows everything, beside AWS's (moto loads the AWS-managed ones)."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.create_policy(PolicyName="ReadOnlyAccess", PolicyDocument=json.dumps(document))


def another_ready_user(iam: t.Any, ctx: types.SimpleNamespace) -> None:
    """ruth: onboarding with an MFA device registered (ready), as rita."""
    iam.create_user(UserName="ruth")
    iam.add_user_to_group(UserName="ruth", GroupName="NotYetLoginUsers")
    iam.create_login_profile(UserName="ruth", Password="Ruth-Passw0rd!-long", PasswordResetRequired=True)
    register_mfa(iam, "ruth")


OWN_READ_ONLY = f"arn:aws:iam::{iam_state.ACCOUNT}:policy/ReadOnlyAccess"
AWS_READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
AMBIGUOUS = (
    f"managed policy ReadOnlyAccess is ambiguous: both the account's customer-managed {OWN_READ_ONLY} and the "
    f"AWS-managed {AWS_READ_ONLY} exist; give the ARN of the one to attach"
)
PROMOTED = ("AttachUserPolicy", "AddUserToGroup", "RemoveUserFromGroup")


def no_directory(name: str) -> t.Callable[[types.SimpleNamespace], None]:
    """{tmp}/<name> was not made."""

    def verify(ctx: types.SimpleNamespace) -> None:
        assert not os.path.exists(os.path.join(ctx.tmp, name)), os.listdir(ctx.tmp)

    return verify


def onboarding_user(name: str, path: str = "/", tags: int = 0) -> t.Callable[[t.Any, types.SimpleNamespace], None]:
    """A user as an earlier onboarding left it (in the onboarding group, no password yet), at path, with tags k0..."""

    def arrange(iam: t.Any, ctx: types.SimpleNamespace) -> None:
        iam.create_user(UserName=name, Path=path, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(tags)])
        iam.add_user_to_group(UserName=name, GroupName="NotYetLoginUsers")

    return arrange


MODULE_CASES = [
    ModuleCase(
        "name-empty",
        "user name empty",
        "bootstrapped",
        ("name: the user name must not be empty",),
        args={"name": ""},
    ),
    ModuleCase(
        "name-65-chars",
        "user name of 65 characters",
        "bootstrapped",
        ("name: the user name 'aaaaaaaaaa", "has 65 characters; IAM allows 1 to 64"),
        args={"name": "a" * 65},
    ),
    ModuleCase(
        "name-space",
        "user name with a space",
        "bootstrapped",
        ("name: the user name 'alice smith' may contain only ASCII letters, digits and the characters +=,.@_-",),
        args={"name": "alice smith"},
    ),
    ModuleCase(
        "name-slash",
        "user name with /",
        "bootstrapped",
        ("name: the user name 'team/alice' may contain only ASCII letters",),
        args={"name": "team/alice"},
    ),
    ModuleCase(
        "name-non-ascii",
        "user name with a non-ASCII letter",
        "bootstrapped",
        ("name: the user name 'jürgen' may contain only ASCII letters",),
        args={"name": "jürgen"},
    ),
    ModuleCase(
        "users-duplicate",
        "the same user twice in one list",
        "bootstrapped",
        ("users[2].name: user alice is listed more than once",),
        args={"users": [{"name": "alice"}, {"name": "bob"}, {"name": "alice"}]},
    ),
    ModuleCase(
        "concurrency-zero",
        "concurrency 0",
        "bootstrapped",
        ("concurrency: must be from 1 to 10, got 0",),
        args={"users": [{"name": "alice"}, {"name": "bob"}], "concurrency": 0},
    ),
    ModuleCase(
        "users-empty",
        "an empty list of users",
        "bootstrapped",
        ("users: the list is empty; give at least one user",),
        args={"users": []},
    ),
    ModuleCase(
        "path-invalid",
        "user path without slashes",
        "bootstrapped",
        ("path of user alice: 'engineering' must begin and end with '/'",),
        args={"name": "alice", "path": "engineering"},
    ),
    ModuleCase(
        "password-policy",
        "explicit password violating the account password policy",
        "bootstrapped",
        (
            "user alice: password does not satisfy the account password policy",
            "password has 7 characters; the account password policy requires at least 14",
            "password has no symbol",
            "nothing was changed",
        ),
        absent=(BAD_PASSWORD,),
        args={"name": "alice", "password": BAD_PASSWORD},
    ),
    ModuleCase(
        "no-bootstrap",
        "onboarding into an account without the onboarding group",
        "fresh",
        ("onboarding_group: the group NotYetLoginUsers does not exist; run the mfa_onboarding.iam.bootstrap role",),
        args={"name": "alice"},
    ),
    ModuleCase(
        "promote-unknown-group",
        "promotion to an unknown group",
        "bootstrapped",
        ("groups not found: Developpers", "nothing was changed"),
        args={"name": "rita", "state": "promoted", "groups": ["Developpers"]},
    ),
    ModuleCase(
        "promote-unknown-policy",
        "promotion with an unknown managed policy",
        "bootstrapped",
        ("managed policies not found: AppReadOnyl", "nothing was changed"),
        args={"name": "rita", "state": "promoted", "managed_policies": ["AppReadOnly", "AppReadOnyl"]},
    ),
    ModuleCase(
        "promote-onboarding-group",
        "promotion into the onboarding group",
        "bootstrapped",
        ("groups of user rita: NotYetLoginUsers is the onboarding group",),
        args={"name": "rita", "state": "promoted", "groups": ["NotYetLoginUsers"]},
    ),
    ModuleCase(
        "promote-no-mfa",
        "promotion of a user without MFA",
        "bootstrapped",
        ("user dave has no MFA device registered", "stays in NotYetLoginUsers"),
        args={"name": "dave", "state": "promoted", "groups": ["Developers"]},
    ),
    ModuleCase(
        "promote-absent-user",
        "promotion of a user that does not exist",
        "bootstrapped",
        ("user ghost does not exist; onboard it first",),
        args={"name": "ghost", "state": "promoted"},
    ),
    ModuleCase(
        "policy-malformed-json",
        "malformed JSON base policy document",
        "bootstrapped",
        ("document is not valid JSON",),
        module="mfa_onboarding_policy",
        args={"stage": "first_login", "document": MALFORMED_JSON},
    ),
    ModuleCase(
        "policy-not-mfa",
        "base policy document without the MFA deny",
        "bootstrapped",
        ("document has no deny-unless-MFA statement", "it cannot serve as an MFA guard"),
        module="mfa_onboarding_policy",
        args={"stage": "first_login", "document": NOT_MFA_DOCUMENT},
    ),
    ModuleCase(
        "policy-wildcard-exemption",
        "current-users document whose NotAction wildcard exempts ChangePassword",
        "bootstrapped",
        ("NotAction entry 'iam:*Password*' exempts iam:ChangePassword", "the current_users policy must not"),
        module="mfa_onboarding_policy",
        args={"stage": "current_users", "document": "WILDCARD"},
    ),
    ModuleCase(
        "policy-scope-unknown",
        "unknown mfa_device_scope",
        "bootstrapped",
        ("mfa_device_scope must be one of: any, own, got: mine",),
        module="mfa_onboarding_policy",
        args={"stage": "first_login", "mfa_device_scope": "mine"},
    ),
    ModuleCase(
        "info-name-invalid",
        "status of a user name with a space",
        "bootstrapped",
        ("names[1]: the user name 'bad name' may contain only ASCII letters",),
        expected="refused before any API call",
        no_calls=True,
        module="iam_onboard_user_info",
        args={"names": ["olga", "bad name"]},
    ),
    ModuleCase(
        "info-names-same-but-case",
        "status of two names that differ only in case",
        "bootstrapped",
        ("names[1]: user Olga is listed more than once (IAM user names are case-insensitive)",),
        expected="refused before any API call",
        no_calls=True,
        module="iam_onboard_user_info",
        args={"names": ["olga", "Olga"]},
    ),
    ModuleCase(
        "info-stale-negative",
        "status with stale_after_days -1",
        "bootstrapped",
        ("stale_after_days: must be a whole number of days, 0 or more, got -1",),
        expected="refused before any API call",
        no_calls=True,
        module="iam_onboard_user_info",
        args={"stale_after_days": -1},
    ),
    ModuleCase(
        "guard-group-also-power-user",
        "onboarding group holding the first-login policy and PowerUserAccess",
        "bootstrapped",
        (
            f"onboarding_group: the group NotYetLoginUsers also holds {POWER_USER}, without the MFA deny statement",
            "nothing was changed",
        ),
        aws_managed_policies=True,
        arrange=attach_power_user("NotYetLoginUsers"),
        args={"name": "erin"},
    ),
    ModuleCase(
        "mail-no-domain",
        "email 'not-an-email' (mail handover)",
        "bootstrapped",
        ("email of user mara ('not-an-email') has no domain (expected local-part@domain)", "nothing was changed"),
        expected="refused before any API call, nothing sent",
        no_calls=True,
        verify=nothing_sent,
        args=lambda ctx: mail_args(ctx, users=[{"name": "mara", "email": "not-an-email"}]),
    ),
    ModuleCase(
        "mail-header-break",
        "email with a header break (CR LF Bcc: eve@evil.example)",
        "bootstrapped",
        (
            "email of user mara ('a@example.org\\r\\nBcc: eve@evil.example') holds a line break (a header injection)",
            "nothing was changed",
        ),
        expected="refused before any API call, nothing sent",
        absent=("\r", "\n"),  # the message shows the value escaped, so it cannot break a header or a log line
        no_calls=True,
        verify=nothing_sent,
        args=lambda ctx: mail_args(ctx, users=[{"name": "mara", "email": "a@example.org\r\nBcc: eve@evil.example"}]),
    ),
    ModuleCase(
        "mail-no-sender",
        "mail handover without mail_from",
        "bootstrapped",
        ("mail_from: handover is mail, so mail_from must name the sender",),
        expected="refused before any API call, nothing sent",
        no_calls=True,
        verify=nothing_sent,
        args=lambda ctx: mail_args(ctx, mail_from=None, users=[{"name": "mara", "email": "mara@example.org"}]),
    ),
    ModuleCase(
        "policy-self-enrollment-unknown",
        "unknown self_enrollment",
        "bootstrapped",
        ("self_enrollment must be one of: official, guarded, got: strict",),
        module="mfa_onboarding_policy",
        args={"stage": "first_login", "self_enrollment": "strict"},
    ),
    ModuleCase(
        "policy-self-enrollment-reserved-sid",
        "base document whose MFA deny carries the Sid that self_enrollment guarded manages",
        "bootstrapped",
        ("is the deny-unless-MFA statement, but its Sid is reserved", "DenyMFADeviceChangesWithoutMFA", "another Sid"),
        module="mfa_onboarding_policy",
        args={"stage": "current_users", "self_enrollment": "guarded", "document": RESERVED_SID_DOCUMENT},
    ),
    ModuleCase(
        "promote-ambiguous-policy",
        "promotion with ReadOnlyAccess, both customer-managed (allows *) and AWS-managed",
        "bootstrapped",
        ("user rita: " + AMBIGUOUS, "nothing was changed for this user"),
        aws_managed_policies=True,
        arrange=shadow_read_only_access,
        args={"name": "rita", "state": "promoted", "managed_policies": ["ReadOnlyAccess"]},
    ),
    ModuleCase(
        "promote-unknown-group-one-of-two",
        "promotion of two ready users, one with an unknown group",
        "bootstrapped",
        ("1 of 2 users failed: user ruth: groups not found: Developpers; nothing was changed for this user",),
        expected="refused for ruth before any write of its own; rita promoted",
        absent=("user rita",),
        writes=PROMOTED,
        promoted=("rita",),
        arrange=another_ready_user,
        args={
            "state": "promoted",
            "users": [{"name": "rita", "groups": ["Developers"]}, {"name": "ruth", "groups": ["Developpers"]}],
        },
    ),
    # The password-policy floor (issue 13): on a fresh account a bad setting must not leave the floor's policy behind.
    ModuleCase(
        "password-policy-age-range",
        "max_password_age 1096 on an account without a password policy",
        "fresh",
        ("max_password_age: 1096 is out of range; IAM accepts 0 to 1095",),
        expected="refused before any API call, no policy created",
        no_calls=True,
        module="account_password_policy",
        args={"allow_users_to_change_password": True, "max_password_age": 1096},
    ),
    # Inputs IAM would reject part-way through a run (issue 13, item 3); moto takes them all.
    ModuleCase(
        "users-same-but-case",
        "Alice and alice in one list (IAM user names are case-insensitive)",
        "bootstrapped",
        ("users[2].name: user alice is user Alice of users[0].name: IAM user names are case-insensitive",),
        expected="refused before any API call",
        no_calls=True,
        args={"users": [{"name": "Alice"}, {"name": "bob"}, {"name": "alice"}]},
    ),
    ModuleCase(
        "tags-51",
        "51 tags on one user",
        "bootstrapped",
        ("tags of user erin: 51 tags; IAM allows at most 50 per user",),
        expected="refused before any API call",
        no_calls=True,
        args={"users": [{"name": "alice"}, {"name": "erin", "tags": {f"k{i}": "v" for i in range(51)}}]},
    ),
    ModuleCase(
        "tags-aws-prefix",
        "a tag key starting with AWS: (module-level tags)",
        "bootstrapped",
        ("tags of user erin: key 'AWS:owner' starts with aws:, a prefix that AWS reserves for its own tags",),
        expected="refused before any API call",
        no_calls=True,
        args={"name": "erin", "tags": {"AWS:owner": "ops"}},
    ),
    ModuleCase(
        "tag-key-129-chars",
        "a tag key of 129 characters",
        "bootstrapped",
        (f"tags of user erin: key '{'k' * 40}...' has 129 characters; IAM allows keys of 1 to 128",),
        expected="refused before any API call",
        no_calls=True,
        args={"name": "erin", "tags": {"k" * 129: "v"}},
    ),
    ModuleCase(
        "tag-value-257-chars",
        "a tag value of 257 characters",
        "bootstrapped",
        ("tags of user erin: the value of key 'team' has 257 characters; IAM allows values of 0 to 256",),
        expected="refused before any API call",
        no_calls=True,
        args={"name": "erin", "tags": {"team": "v" * 257}},
    ),
    ModuleCase(
        "tag-key-character",
        "a tag key with $ (outside IAM's characters)",
        "bootstrapped",
        ("tags of user erin: key 'cost$center' holds '$'; IAM allows in tag keys only letters, digits, white space",),
        expected="refused before any API call",
        no_calls=True,
        args={"name": "erin", "tags": {"cost$center": "42"}},
    ),
    ModuleCase(
        "tag-keys-same-but-case",
        "tag keys Team and team on one user",
        "bootstrapped",
        ("tags of user erin: keys 'Team' and 'team' differ only in case; IAM's user tag keys are case-insensitive",),
        expected="refused before any API call",
        no_calls=True,
        args={"name": "erin", "tags": {"Team": "data", "team": "ops"}},
    ),
    ModuleCase(
        "tags-50-and-the-handover-mark",
        "50 tags with file handover (its mark is the 51st)",
        "bootstrapped",
        ("tags of user erin: 50 tags; IAM allows at most 49 per user (the handover's mark takes 1 of IAM's 50)",),
        expected="refused before any API call, no directory made",
        no_calls=True,
        verify=no_directory("notes"),
        args=lambda ctx: {
            "name": "erin",
            "tags": {f"k{i}": "v" for i in range(50)},
            "handover": "file",
            "handover_dir": f"{ctx.tmp}/notes",
        },
    ),
    ModuleCase(
        "tags-over-the-limit-with-the-users-own",
        "6 new tags for a user that holds 45",
        "bootstrapped",
        (
            "tags of user erin: user erin holds 45 tags and TagUser would add 6 new keys: 51 in all",
            "nothing was changed",
        ),
        expected="refused before the user's first write",
        arrange=onboarding_user("erin", tags=45),
        args={"name": "erin", "tags": {f"n{i}": "v" for i in range(6)}},
    ),
    ModuleCase(
        "path-not-enrollable",
        "a user at /contractors/ under the official policies",
        "bootstrapped",
        (
            "path of user bob: user bob is at path /contractors/, where it could never change its temporary password "
            "or register an MFA device",
            "iam:EnableMFADevice is allowed only on arn:aws:iam::*:user/${{aws:username}} (statement "
            "AllowManageOwnUserMFA)",
            "does not match its ARN arn:aws:iam::123456789012:user/contractors/bob",
            "nothing was changed",
        ),
        args={"users": [{"name": "erin"}, {"name": "bob", "path": "/contractors/"}]},
    ),
    ModuleCase(
        "existing-user-at-a-path",
        "an existing user at /contractors/ without MFA (left by 0.2.0)",
        "bootstrapped",
        ("user bob is at path /contractors/, where it could never change its temporary password",),
        expected="refused before the user's first write",
        arrange=onboarding_user("bob", path="/contractors/"),
        args={"name": "bob"},
    ),
    ModuleCase(
        "promote-onboarding-group-other-case",
        "promotion into notyetloginusers (the onboarding group in another case)",
        "bootstrapped",
        (
            "groups of user rita: notyetloginusers is the onboarding group (NotYetLoginUsers: IAM group names are "
            "case-insensitive)",
        ),
        expected="refused before any API call",
        no_calls=True,
        args={"name": "rita", "state": "promoted", "groups": ["notyetloginusers"]},
    ),
]

ONBOARDED = ("CreateUser", "AddUserToGroup", "CreateLoginProfile")

PLAYBOOK_CASES = [
    PlaybookCase(
        "role-users-empty",
        "onboard_users empty",
        "bootstrapped",
        ("users: the list is empty; give at least one user",),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[]),
    ),
    PlaybookCase(
        "role-name-invalid",
        "one invalid user name among valid ones",
        "bootstrapped",
        ("users[1].name: the user name 'bad name' may contain only ASCII letters",),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}, {"name": "bad name"}]),
    ),
    PlaybookCase(
        "role-users-duplicate",
        "the same user twice in onboard_users",
        "bootstrapped",
        ("users[1].name: user erin is listed more than once",),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}, {"name": "erin"}]),
    ),
    PlaybookCase(
        "role-user-key-typo",
        "unknown key in a user item (emial)",
        "bootstrapped",
        ("onboard_users.emial", "Supported parameters include: email, name, path, profile, tags"),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin", "emial": "erin@example.com"}]),
    ),
    PlaybookCase(
        "role-mail-no-sender",
        "mail delivery without onboard_mail_from",
        "bootstrapped",
        ("onboard_delivery is mail, so onboard_mail_from must name the sender",),
        expected="refused before any API call",
        no_calls=True,
        extra_vars={"onboard_users": [{"name": "erin", "email": "erin@example.com"}], "onboard_delivery": "mail"},
    ),
    PlaybookCase(
        "role-onboard-concurrency",
        "onboard_concurrency 11",
        "bootstrapped",
        ("onboard_concurrency must be one of: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, got: 11",),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}], onboard_concurrency=11),
    ),
    PlaybookCase(
        "role-promote-concurrency",
        "promote_concurrency 0",
        "bootstrapped",
        ("promote_concurrency must be one of: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, got: 0",),
        playbook="promote",
        extra_vars={"promote_users": [{"name": "rita"}], "promote_concurrency": 0},
    ),
    PlaybookCase(
        "role-promote-unknown",
        "promotion to an unknown group and policy",
        "bootstrapped",
        ("groups not found: Developpers", "managed policies not found: AppReadOnyl", "nothing was changed"),
        playbook="promote",
        extra_vars={
            "promote_users": [{"name": "rita", "groups": ["Developpers"], "managed_policies": ["AppReadOnyl"]}]
        },
    ),
    PlaybookCase(
        "role-promote-no-mfa",
        "promotion of a user without MFA",
        "bootstrapped",
        ("promotion refused for dave", "user dave has no MFA device registered"),
        playbook="promote",
        extra_vars={"promote_users": [{"name": "dave", "groups": ["Developers"]}]},
    ),
    PlaybookCase(
        "role-scope-unknown",
        "unknown bootstrap_mfa_device_scope",
        "bootstrapped",
        ("bootstrap_mfa_device_scope must be one of: any, own, got: mine",),
        playbook="bootstrap",
        extra_vars={"bootstrap_mfa_device_scope": "mine"},
    ),
    PlaybookCase(
        "role-document-malformed",
        "malformed JSON bootstrap_policy_document",
        "bootstrapped",
        ("document is not valid JSON",),
        playbook="bootstrap",
        extra_vars={"bootstrap_policy_document": MALFORMED_JSON},
    ),
    PlaybookCase(
        "role-document-not-mfa",
        "bootstrap_policy_document without the MFA deny",
        "bootstrapped",
        ("document has no deny-unless-MFA statement",),
        playbook="bootstrap",
        extra_vars={"bootstrap_policy_document": NOT_MFA_DOCUMENT},
    ),
    PlaybookCase(
        "role-document-wildcard",
        "bootstrap_policy_document whose NotAction wildcard exempts ChangePassword",
        "bootstrapped",
        ("NotAction entry 'iam:*Password*' exempts iam:ChangePassword",),
        playbook="bootstrap",
        extra_vars=lambda ctx: {"bootstrap_policy_document": wildcard_document()},
    ),
    PlaybookCase(
        "role-password-policy-range",
        "bootstrap_password_policy.min_password_length 3 (first bootstrap)",
        "fresh",
        ("min_password_length: 3 is out of range; IAM accepts 6 to 128",),
        playbook="bootstrap",
        extra_vars={"bootstrap_password_policy": {"min_password_length": 3}},
    ),
    PlaybookCase(
        "role-password-policy-typo",
        "bootstrap_password_policy with a misspelt setting (require_symbol)",
        "fresh",
        ("bootstrap_password_policy.require_symbol. Supported parameters include:", "require_symbols"),
        playbook="bootstrap",
        extra_vars={"bootstrap_password_policy": {"require_symbol": True}},
    ),
    PlaybookCase(
        "role-group-name-invalid",
        "bootstrap_onboarding_group with a space (first bootstrap)",
        "fresh",
        ("group name", "Not Yet"),
        playbook="bootstrap",
        extra_vars={"bootstrap_onboarding_group": "Not Yet"},
    ),
    PlaybookCase(
        "role-wrong-endpoint",
        "AWS_ENDPOINT_URL on a closed loopback port",
        "bootstrapped",
        ("Could not connect to the endpoint URL", "http://127.0.0.1:{closed_port}/"),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}]),
        env="wrong_endpoint",
    ),
    PlaybookCase(
        "role-no-credentials",
        "no AWS credentials (no AWS_* keys or profile, empty HOME)",
        "bootstrapped",
        ("Unable to locate credentials",),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}]),
        env="no_credentials",
    ),
    PlaybookCase(
        "role-handover-dir",
        "onboard_handover_dir below a regular file",
        "bootstrapped",
        ("{tmp}/a-file/notes", "Not a directory"),
        extra_vars=lambda ctx: {
            "onboard_users": [{"name": "frank"}],
            "onboard_delivery": "file",
            "onboard_handover_dir": f"{ctx.tmp}/a-file/notes",
        },
    ),
    PlaybookCase(
        "role-smtp-login-refused",
        "SMTP server that refuses the login",
        "bootstrapped",
        (
            "onboarding failed for gina",
            "the SMTP server 127.0.0.1:{smtp_port} (STARTTLS) refused the login of mailer: 535",
        ),
        # The module logs in before its first write (DESIGN section 4): nobody is created.
        expected="refused before any write",
        absent=("wrong-secret",),
        extra_vars=lambda ctx: {
            "onboard_users": [{"name": "gina", "email": "gina@example.com"}],
            "onboard_delivery": "mail",
            "onboard_mail_host": ctx.smtp.host,
            "onboard_mail_port": ctx.smtp.port,
            "onboard_mail_from": "iam-admin@example.com",
            "onboard_mail_username": "mailer",
            "onboard_mail_password": "wrong-secret",
            "onboard_mail_ca_file": ctx.smtp.ca_file,
        },
    ),
    PlaybookCase(
        "role-self-enrollment-yes",
        "bootstrap_self_enrollment: yes (a YAML boolean, not official or guarded)",
        "bootstrapped",
        ("bootstrap_self_enrollment must be one of: official, guarded, got: True",),
        playbook="bootstrap",
        extra_vars={"bootstrap_self_enrollment": True},
    ),
    PlaybookCase(
        "role-self-enrollment-reserved-sid",
        "bootstrap_policy_document whose MFA deny carries a Sid reserved for self_enrollment guarded",
        "bootstrapped",
        ("is the deny-unless-MFA statement, but its Sid is reserved",),
        playbook="bootstrap",
        extra_vars={"bootstrap_self_enrollment": "guarded", "bootstrap_policy_document": RESERVED_SID_DOCUMENT},
    ),
]

STATUS_CASES = [
    PlaybookCase(
        "status-fail-on-unknown",
        "status_fail_on with an unknown finding",
        "bootstrapped",
        ("status_fail_on must be one or more of", "unguarded_console_password", "Got no match for: unguarded_password"),
        expected="refused before any API call",
        no_calls=True,
        playbook="status",
        extra_vars={"status_fail_on": ["stale_onboarding", "unguarded_password"]},
    ),
    PlaybookCase(
        "status-report-extension",
        "status_report_path with the extension .txt",
        "bootstrapped",
        ("status_report_path: '{tmp}/report.txt' has extension '.txt'", "give a file ending in .md, .csv, .json"),
        expected="refused before any API call",
        no_calls=True,
        playbook="status",
        extra_vars=lambda ctx: {"status_report_path": f"{ctx.tmp}/report.txt"},
    ),
    PlaybookCase(
        "status-report-no-extension",
        "status_report_path without an extension",
        "bootstrapped",
        ("status_report_path: '{tmp}/report' has no extension",),
        expected="refused before any API call",
        no_calls=True,
        playbook="status",
        extra_vars=lambda ctx: {"status_report_path": f"{ctx.tmp}/report"},
    ),
    PlaybookCase(
        "status-report-dir-missing",
        "status_report_path in a directory that does not exist",
        "bootstrapped",
        ("status_report_path: the directory {tmp}/no-such-dir does not exist",),
        expected="refused before any API call",
        no_calls=True,
        playbook="status",
        extra_vars=lambda ctx: {"status_report_path": f"{ctx.tmp}/no-such-dir/report.md"},
    ),
    PlaybookCase(
        "status-report-dir-is-a-file",
        "status_report_path below a regular file",
        "bootstrapped",
        ("status_report_path: the directory {tmp}/a-file is not a directory",),
        expected="refused before any API call",
        no_calls=True,
        playbook="status",
        extra_vars=lambda ctx: {"status_report_path": f"{ctx.tmp}/a-file/report.csv"},
    ),
]
PLAYBOOK_CASES += STATUS_CASES

# The guards (invariant 7) and the handover (DESIGN section 4, 0.3).
GUARD_AND_HANDOVER_CASES = [
    PlaybookCase(
        "role-guard-group-not-mfa",
        "onboard_onboarding_group: Developers (a group holding PowerUserAccess)",
        "bootstrapped",
        (
            "onboarding_group: the group Developers holds no policy with the MFA deny statement",
            "so it guards nobody",
            "nothing was changed",
        ),
        aws_managed_policies=True,
        arrange=attach_power_user("Developers"),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}], onboard_onboarding_group="Developers"),
    ),
    PlaybookCase(
        "role-guard-policy-not-mfa",
        f"promote_current_users_policy: {CHANGE_PASSWORD_ONLY}",
        "bootstrapped",
        (f"current_users_policy: {CHANGE_PASSWORD_ONLY} does not carry the MFA deny statement", "requires no MFA"),
        aws_managed_policies=True,
        playbook="promote",
        extra_vars={"promote_users": [{"name": "rita"}], "promote_current_users_policy": CHANGE_PASSWORD_ONLY},
    ),
    PlaybookCase(
        "role-delivery-missing",
        "onboard role without onboard_delivery",
        "bootstrapped",
        ("missing required arguments: onboard_delivery",),
        expected="refused before any API call",
        no_calls=True,
        extra_vars={"onboard_users": [{"name": "erin"}]},
    ),
    PlaybookCase(
        "role-delivery-none",
        "onboard_delivery: none",
        "bootstrapped",
        ("onboard_delivery must be one of: file, mail, got: none",),
        expected="refused before any API call",
        no_calls=True,
        extra_vars={"onboard_users": [{"name": "erin"}], "onboard_delivery": "none"},
    ),
    PlaybookCase(
        "role-template-missing",
        "onboard_message_template: nosuch.j2 (no such file)",
        "bootstrapped",
        ("message_template: nosuch.j2 was not found", "nothing was changed"),
        expected="refused before any API call",
        no_calls=True,
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}], onboard_message_template="nosuch.j2"),
    ),
    PlaybookCase(
        "role-template-undefined",
        "a message template that uses item.email (undefined)",
        "bootstrapped",
        ("message_template: rendering the message for user erin fails", "'dict object' has no attribute 'email'"),
        expected="refused before any API call",
        no_calls=True,
        arrange=write_template(
            "with-email.j2", "Dear {{ item.email }},\nyour password: {{ item.temporary_password }}\n"
        ),
        extra_vars=lambda ctx: by_file(
            ctx, onboard_users=[{"name": "erin"}], onboard_message_template=f"{ctx.tmp}/with-email.j2"
        ),
    ),
    PlaybookCase(
        "role-template-no-password",
        "a message template that does not show the password",
        "bootstrapped",
        ("message_template: the message for user erin does not show the temporary password",),
        expected="refused before any API call",
        no_calls=True,
        arrange=write_template("no-password.j2", "Hello {{ item.name }}, sign in at {{ item.console_url }}.\n"),
        extra_vars=lambda ctx: by_file(
            ctx, onboard_users=[{"name": "erin"}], onboard_message_template=f"{ctx.tmp}/no-password.j2"
        ),
    ),
    PlaybookCase(
        "role-handover-dir-symlink",
        "onboard_handover_dir a symbolic link to a directory of mode 1777",
        "bootstrapped",
        ("handover_dir: {tmp}/notes is a symbolic link",),
        expected="refused before any write, the target's mode kept",
        arrange=shared_directory_behind_link,
        verify=mode_kept("shared", 0o1777),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}]),
    ),
    PlaybookCase(
        "role-handover-dir-open",
        "onboard_handover_dir an existing directory of mode 0755",
        "bootstrapped",
        ("handover_dir: {tmp}/notes has mode 0755: group or others can use it", "it is not changed here"),
        expected="refused before any write, the mode kept",
        arrange=open_notes_directory,
        verify=mode_kept("notes", 0o755),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}]),
    ),
    PlaybookCase(
        "role-mail-two-recipients",
        "email 'm2@example.org, eve2@evil.example' (mail delivery)",
        "bootstrapped",
        (
            "email of user mara ('m2@example.org, eve2@evil.example') names more than one recipient",
            "nothing was changed",
        ),
        expected="refused before any API call, nothing sent",
        no_calls=True,
        verify=nothing_sent,
        extra_vars=lambda ctx: by_mail(
            ctx,
            onboard_users=[
                {"name": "erin", "email": "erin@example.org"},
                {"name": "mara", "email": "m2@example.org, eve2@evil.example"},
            ],
        ),
    ),
    PlaybookCase(
        "role-mail-no-email",
        "a user without email (mail delivery)",
        "bootstrapped",
        ("user mara has no email", "nothing was changed"),
        expected="refused before any API call, nothing sent",
        no_calls=True,
        verify=nothing_sent,
        extra_vars=lambda ctx: by_mail(
            ctx, onboard_users=[{"name": "erin", "email": "erin@example.org"}, {"name": "mara"}]
        ),
    ),
    PlaybookCase(
        "role-tags-handover-mark",
        "tags with mfa-onboarding:handover",
        "bootstrapped",
        ("tags of user erin: mfa-onboarding:handover: the mfa-onboarding:* tags are the", "never by hand"),
        expected="refused before any API call",
        no_calls=True,
        extra_vars=lambda ctx: by_file(
            ctx, onboard_users=[{"name": "erin", "tags": {"mfa-onboarding:handover": "delivered"}}]
        ),
    ),
    PlaybookCase(
        "role-batch-size-zero",
        "onboard_batch_size: 0",
        "bootstrapped",
        ("onboard_batch_size must be at least 1, got: 0",),
        expected="refused before any API call",
        no_calls=True,
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}], onboard_batch_size=0),
    ),
    # The first batch checks the whole list: erin (batch 1) is not created because of batch 2's bad name.
    PlaybookCase(
        "role-bad-name-in-a-later-batch",
        "a bad user name in the second batch (onboard_batch_size: 1)",
        "bootstrapped",
        ("users[1].name", "bad name"),
        expected="refused before any API call",
        no_calls=True,
        extra_vars=lambda ctx: by_file(
            ctx, onboard_users=[{"name": "erin"}, {"name": "bad name"}], onboard_batch_size=1
        ),
    ),
    # The password-policy floor (issue 13): a first bootstrap with a bad setting creates neither the guards nor the
    # floor's policy.
    PlaybookCase(
        "role-password-policy-reuse-range",
        "bootstrap_password_policy.password_reuse_prevention 25 (first bootstrap)",
        "fresh",
        ("password_reuse_prevention: 25 is out of range; IAM accepts 0 to 24",),
        playbook="bootstrap",
        extra_vars={"bootstrap_password_policy": {"password_reuse_prevention": 25}},
    ),
    PlaybookCase(
        "role-password-policy-not-a-dict",
        "bootstrap_password_policy given as a word ('cis'), not settings (first bootstrap)",
        "fresh",
        ("argument 'bootstrap_password_policy' is of type str and we were unable to convert to dict",),
        expected="refused before any API call",
        no_calls=True,
        playbook="bootstrap",
        extra_vars={"bootstrap_password_policy": "cis"},
    ),
]
PLAYBOOK_CASES += GUARD_AND_HANDOVER_CASES

# Adoption (issue 13): a user outside the regime that the run may not adopt is refused by name and left untouched.


def legacy_admin(iam: t.Any, ctx: types.SimpleNamespace) -> None:
    """legacy: a console password, AppReadOnly, group Developers, an inline policy and an active key; no MFA."""
    iam.create_user(UserName="legacy")
    iam.create_login_profile(UserName="legacy", Password="His-own-Passw0rd!-long", PasswordResetRequired=False)
    iam.add_user_to_group(UserName="legacy", GroupName="Developers")
    iam.attach_user_policy(UserName="legacy", PolicyArn=iam_state.EXTRA_POLICY_ARN)
    iam.put_user_policy(UserName="legacy", PolicyName="legacy-inline", PolicyDocument=json.dumps(wildcard_document()))
    iam.create_access_key(UserName="legacy")


def key_only(iam: t.Any, ctx: types.SimpleNamespace) -> None:
    """kim: a console password and an active access key, nothing else."""
    iam.create_user(UserName="kim")
    iam.create_login_profile(UserName="kim", Password="Her-own-Passw0rd!-long", PasswordResetRequired=False)
    iam.create_access_key(UserName="kim")


ADOPT_ONLY = {"adopt_only": True, "handover": "none"}
MODULE_CASES += [
    ModuleCase(
        "adopt-absent-user",
        "adopt_only with a user that does not exist",
        "bootstrapped",
        ("user ghost does not exist; adoption takes existing users only",),
        expected="refused before any write",
        args=dict(ADOPT_ONLY, name="ghost"),
    ),
    ModuleCase(
        "adopt-detach-off-admin",
        "adopt_detach: false on a user that holds grants, an inline policy and a key",
        "bootstrapped",
        (
            "user legacy has no MFA device and holds groups Developers; policies " + iam_state.EXTRA_POLICY_ARN,
            "inline policies legacy-inline; 1 active access key",
            "with adopt_detach off it was left untouched",
        ),
        expected="refused before any write",
        arrange=legacy_admin,
        args=dict(ADOPT_ONLY, name="legacy", adopt_detach=False),
    ),
    ModuleCase(
        "adopt-detach-off-key-only",
        "adopt_detach: false on a user whose only extra is an active access key",
        "bootstrapped",
        ("user kim has no MFA device and holds 1 active access key",),
        expected="refused before any write",
        arrange=key_only,
        args=dict(ADOPT_ONLY, name="kim", adopt_detach=False),
    ),
]
PLAYBOOK_CASES += [
    PlaybookCase(
        "role-adopt-nobody",
        "adopt playbook with neither adopt_users nor adopt_all",
        "bootstrapped",
        ("adopt_users is empty and adopt_all is false",),
        expected="refused before any API call",
        no_calls=True,
        playbook="adopt",
    ),
    PlaybookCase(
        "role-adopt-detach-not-bool",
        "adopt_detach: maybe",
        "bootstrapped",
        ("adopt_detach",),
        expected="refused before any API call",
        no_calls=True,
        playbook="adopt",
        extra_vars={"adopt_users": ["legacy"], "adopt_detach": "maybe"},
    ),
    PlaybookCase(
        "role-adopt-detach-off",
        "adopt role, adopt_detach: false, an admin without MFA",
        "bootstrapped",
        ("adoption refused or failed for legacy", "user legacy has no MFA device and holds"),
        expected="refused before any write",
        arrange=legacy_admin,
        playbook="adopt",
        extra_vars={"adopt_users": ["legacy"], "adopt_detach": False},
    ),
    PlaybookCase(
        "role-adopt-ghost",
        "adopt role naming a user that does not exist",
        "bootstrapped",
        ("adoption refused or failed for ghost", "user ghost does not exist; adoption takes existing users only"),
        expected="refused before any write",
        playbook="adopt",
        extra_vars={"adopt_users": ["ghost"]},
    ),
]

# Per-user grants (issue 13): one user's group or policy fails that user only.
GRANT_CASES = [
    PlaybookCase(
        "role-promote-ambiguous-policy",
        "promotion with ReadOnlyAccess, both customer-managed (allows *) and AWS-managed",
        "bootstrapped",
        ("promotion refused for rita: user rita: " + AMBIGUOUS,),
        aws_managed_policies=True,
        arrange=shadow_read_only_access,
        playbook="promote",
        extra_vars={"promote_users": [{"name": "rita", "managed_policies": ["ReadOnlyAccess"]}]},
    ),
    PlaybookCase(
        "role-promote-unknown-group-one-of-two",
        "promotion of two ready users, one with an unknown group",
        "bootstrapped",
        ("promotion refused for ruth: user ruth: groups not found: Developpers; nothing was changed for this user",),
        expected="refused for ruth before any write of its own; rita promoted",
        absent=("rita",),
        writes=PROMOTED,
        promoted=("rita",),
        arrange=another_ready_user,
        playbook="promote",
        extra_vars={
            "promote_users": [{"name": "rita", "groups": ["Developers"]}, {"name": "ruth", "groups": ["Developpers"]}]
        },
    ),
    PlaybookCase(
        "role-promote-no-bootstrap",
        "promotion in an account without the onboarding group",
        "fresh",
        ("onboarding_group: the group NotYetLoginUsers does not exist; run the mfa_onboarding.iam.bootstrap role",),
        playbook="promote",
        extra_vars={"promote_users": [{"name": "rita"}, {"name": "ruth"}]},
    ),
]
PLAYBOOK_CASES += GRANT_CASES

# Inputs IAM would reject part-way through a run (issue 13, item 3), as the onboard role's users give them.
INPUTS_IAM_REJECTS = [
    PlaybookCase(
        "role-users-same-but-case",
        "Erin and erin in onboard_users",
        "bootstrapped",
        ("users[1].name: user erin is user Erin of users[0].name: IAM user names are case-insensitive",),
        expected="refused before any API call",
        no_calls=True,
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "Erin"}, {"name": "erin"}]),
    ),
    PlaybookCase(
        "role-path-not-enrollable",
        "bob at /contractors/ (as examples/onboard-vars.yml had it) under the official policies",
        "bootstrapped",
        (
            "path of user bob: user bob is at path /contractors/, where it could never change its temporary password "
            "or register an MFA device",
            "also name arn:aws:iam::*:user/*/${{aws:username}}",  # fragments are formatted: {{ is {
        ),
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin"}, {"name": "bob", "path": "/contractors/"}]),
    ),
]
PLAYBOOK_CASES += INPUTS_IAM_REJECTS

# The end of the lifecycle (issue 14): expire, disable, offboard.
LEAVING_MODULE_CASES = [
    ModuleCase(
        "leave-guard-group-as-user",
        "offboarding the onboarding group's name as a user",
        "bootstrapped",
        ("name: NotYetLoginUsers is the onboarding group's name",),
        args={"name": "NotYetLoginUsers", "state": "absent"},
        no_calls=True,
    ),
    ModuleCase(
        "leave-guard-policy-as-user",
        "disabling a guard policy's name (another case) as a user",
        "bootstrapped",
        ("mfarequiredforcurrentusers", "is the name of an MFA guard policy"),
        args={"name": "mfarequiredforcurrentusers", "state": "disabled"},
        no_calls=True,
    ),
    ModuleCase(
        "expire-zero-days",
        "expire_after_days 0",
        "bootstrapped",
        ("expire_after_days: must be a whole number of days, at least 1, got 0",),
        args={"name": "alice", "state": "expired", "expire_after_days": 0},
        no_calls=True,
    ),
    ModuleCase(
        "offboard-listed-twice",
        "a user listed twice for offboarding",
        "bootstrapped",
        ("user leo is listed more than once",),
        args={"users": [{"name": "leo"}, {"name": "leo"}], "state": "absent"},
        no_calls=True,
    ),
    ModuleCase(
        "offboard-names-differ-in-case",
        "names that differ only in case, offboarded",
        "bootstrapped",
        ("IAM user names are case-insensitive",),
        args={"users": [{"name": "Leo"}, {"name": "leo"}], "state": "absent"},
        no_calls=True,
    ),
]
MODULE_CASES += LEAVING_MODULE_CASES
PLAYBOOK_CASES += [
    PlaybookCase(
        "role-offboard-mode-unknown",
        "offboard_mode purge",
        "bootstrapped",
        ("offboard_mode", "delete, disable"),
        expected="refused before any write",
        playbook="offboard",
        extra_vars={"offboard_users": [{"name": "leo"}], "offboard_mode": "purge"},
    ),
    PlaybookCase(
        "role-expire-zero-days",
        "expire role with expire_after_days 0",
        "bootstrapped",
        ("expire_after_days: must be a whole number of days, at least 1",),
        expected="refused before any write",
        playbook="expire",
        extra_vars={"expire_after_days": 0},
    ),
]

# Promotion profiles (issue 15, invariant 8): the operator's profiles and a user's recorded one, checked before any
# write. A profile's groups and policies are read once (they must exist), so those cases make reads, not writes.
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
LONG_PROFILE = "p" * 257
DEVELOPER = {"developer": {"groups": ["Developers"]}}
PROMOTE_RITA = {"state": "promoted", "users": [{"name": "rita"}]}
SWEEP = {"state": "promoted", "users": [], "all_ready": True}
PROFILE_MODULE_CASES = [
    ModuleCase(
        "profile-unknown-group",
        "a profile whose group does not exist",
        "bootstrapped",
        ("profiles.developer: groups not found: Developpers", "nothing was changed"),
        args=dict(SWEEP, profiles={"developer": {"groups": ["Developpers"]}}),
    ),
    ModuleCase(
        "profile-unknown-policy",
        "a profile whose managed policy does not exist",
        "bootstrapped",
        ("profiles.analyst: ", "AppReadOnlyy", "nothing was changed"),
        args=dict(PROMOTE_RITA, profiles={"analyst": {"managed_policies": ["AppReadOnlyy"]}}),
    ),
    ModuleCase(
        "profile-tag-comma",
        "a profile to record that is a list (Admins,Ops)",
        "bootstrapped",
        ("profile of user alice: the profile name 'Admins,Ops' holds ','", "IAM allows in tag values only"),
        no_calls=True,
        args={"name": "alice", "promotion_profile": "Admins,Ops"},
    ),
    ModuleCase(
        "profile-tag-257-chars",
        "a profile to record of 257 characters",
        "bootstrapped",
        ("profile of user alice: the profile name 'ppppp", "has 257 characters; a tag value holds at most 256"),
        no_calls=True,
        args={"name": "alice", "promotion_profile": LONG_PROFILE},
    ),
    ModuleCase(
        "profile-tag-arn",
        "a profile to record that is the ARN of AdministratorAccess",
        "bootstrapped",
        ("profile of user alice: the profile name '" + ADMIN_ARN + "' is an ARN",),
        no_calls=True,
        args={"name": "alice", "promotion_profile": ADMIN_ARN},
    ),
    ModuleCase(
        "profiles-list",
        "profiles given as a list",
        "bootstrapped",
        ("argument 'profiles' is of type list and we were unable to convert to dict",),
        no_calls=True,
        args=dict(SWEEP, profiles=[{"developer": {"groups": ["Developers"]}}]),
    ),
    ModuleCase(
        "profiles-string",
        "profiles given as a string",
        "bootstrapped",
        ("argument 'profiles' is of type str and we were unable to convert to dict",),
        no_calls=True,
        args=dict(SWEEP, profiles="developer"),
    ),
    ModuleCase(
        "profile-onboarding-group",
        "a profile that grants the onboarding group",
        "bootstrapped",
        ("profiles.helpdesk.groups: NotYetLoginUsers is the onboarding group",),
        no_calls=True,
        args=dict(SWEEP, profiles={"helpdesk": {"groups": ["NotYetLoginUsers"]}}),
    ),
    ModuleCase(
        "profile-onboarding-group-case",
        "a profile that grants the onboarding group in another case",
        "bootstrapped",
        ("profiles.helpdesk.groups: notyetloginusers is the onboarding group",),
        no_calls=True,
        args=dict(PROMOTE_RITA, profiles={"helpdesk": {"groups": ["Developers", "notyetloginusers"]}}),
    ),
    ModuleCase(
        "all-ready-no-profiles",
        "all_ready with no profiles and no default",
        "bootstrapped",
        ("all_ready: the users it finds are promoted by their recorded profile only, and profiles is empty",),
        no_calls=True,
        args=SWEEP,
    ),
    ModuleCase(
        "default-profile-undefined",
        "default_profile that is not one of the profiles",
        "bootstrapped",
        ("default_profile: ops is not one of the profiles (developer)",),
        no_calls=True,
        args=dict(SWEEP, profiles=DEVELOPER, default_profile="ops"),
    ),
    ModuleCase(
        "profile-unknown-key",
        "a profile with the key group (for groups)",
        "bootstrapped",
        ("profiles.developer: unknown key group; a profile has only groups and managed_policies",),
        no_calls=True,
        args=dict(SWEEP, profiles={"developer": {"group": ["Developers"]}}),
    ),
    ModuleCase(
        "user-profile-undefined",
        "a user promoted by a profile that is not defined",
        "bootstrapped",
        ("profile of user rita: ops is not one of the profiles this run defines (developer)",),
        no_calls=True,
        args={"state": "promoted", "users": [{"name": "rita", "profile": "ops"}], "profiles": DEVELOPER},
    ),
]
MODULE_CASES += PROFILE_MODULE_CASES
PROFILE_PLAYBOOK_CASES = [
    PlaybookCase(
        "role-promote-profile-unknown-group",
        "promote_ready with a profile whose group does not exist",
        "bootstrapped",
        ("profiles.developer: groups not found: Developpers", "nothing was changed"),
        playbook="promote",
        extra_vars={"promote_ready": True, "promote_profiles": {"developer": {"groups": ["Developpers"]}}},
    ),
    PlaybookCase(
        "role-promote-profile-unknown-policy",
        "promote_profiles with a managed policy that does not exist",
        "bootstrapped",
        ("profiles.analyst: ", "AppReadOnlyy", "nothing was changed"),
        playbook="promote",
        extra_vars={
            "promote_users": [{"name": "rita"}],
            "promote_profiles": {"analyst": {"managed_policies": ["AppReadOnlyy"]}},
        },
    ),
    PlaybookCase(
        "role-onboard-profile-comma",
        "onboard_users[].profile Admins,Ops",
        "bootstrapped",
        ("profile of user erin: the profile name 'Admins,Ops' holds ','",),
        no_calls=True,
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin", "profile": "Admins,Ops"}]),
        verify=no_directory("notes"),
    ),
    PlaybookCase(
        "role-onboard-profile-257-chars",
        "onboard_users[].profile of 257 characters",
        "bootstrapped",
        ("profile of user erin: the profile name 'ppppp", "has 257 characters; a tag value holds at most 256"),
        no_calls=True,
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin", "profile": LONG_PROFILE}]),
        verify=no_directory("notes"),
    ),
    PlaybookCase(
        "role-onboard-profile-arn",
        "onboard_users[].profile the ARN of AdministratorAccess",
        "bootstrapped",
        ("profile of user erin: the profile name '" + ADMIN_ARN + "' is an ARN",),
        no_calls=True,
        extra_vars=lambda ctx: by_file(ctx, onboard_users=[{"name": "erin", "profile": ADMIN_ARN}]),
        verify=no_directory("notes"),
    ),
    PlaybookCase(
        "role-promote-profiles-list",
        "promote_profiles given as a list",
        "bootstrapped",
        ("promote_profiles",),
        no_calls=True,
        playbook="promote",
        extra_vars={"promote_ready": True, "promote_profiles": [{"developer": {"groups": ["Developers"]}}]},
    ),
    PlaybookCase(
        "role-promote-profiles-string",
        "promote_profiles given as a string",
        "bootstrapped",
        ("promote_profiles",),
        no_calls=True,
        playbook="promote",
        extra_vars={"promote_ready": True, "promote_profiles": "developer"},
    ),
    PlaybookCase(
        "role-promote-profile-onboarding-group",
        "promote_profiles with a profile that grants NotYetLoginUsers",
        "bootstrapped",
        ("profiles.helpdesk.groups: NotYetLoginUsers is the onboarding group",),
        no_calls=True,
        playbook="promote",
        extra_vars={"promote_ready": True, "promote_profiles": {"helpdesk": {"groups": ["NotYetLoginUsers"]}}},
    ),
    PlaybookCase(
        "role-promote-profile-onboarding-group-case",
        "promote_profiles with a profile that grants notyetloginusers",
        "bootstrapped",
        ("profiles.helpdesk.groups: notyetloginusers is the onboarding group",),
        no_calls=True,
        playbook="promote",
        extra_vars={"promote_ready": True, "promote_profiles": {"helpdesk": {"groups": ["notyetloginusers"]}}},
    ),
    PlaybookCase(
        "role-promote-ready-no-profiles",
        "promote_ready with promote_profiles empty and no default",
        "bootstrapped",
        ("promote_ready: the users it finds are promoted by their recorded profile only, and promote_profiles is",),
        expected="refused before any API call",
        no_calls=True,
        playbook="promote",
        extra_vars={"promote_ready": True},
    ),
    PlaybookCase(
        "role-promote-default-undefined",
        "promote_default_profile that is not one of promote_profiles",
        "bootstrapped",
        ("default_profile: ops is not one of the profiles (developer)",),
        no_calls=True,
        playbook="promote",
        extra_vars={"promote_ready": True, "promote_profiles": DEVELOPER, "promote_default_profile": "ops"},
    ),
    PlaybookCase(
        "role-promote-profile-unknown-key",
        "promote_profiles with the key group (for groups)",
        "bootstrapped",
        ("profiles.developer: unknown key group; a profile has only groups and managed_policies",),
        no_calls=True,
        playbook="promote",
        extra_vars={"promote_ready": True, "promote_profiles": {"developer": {"group": ["Developers"]}}},
    ),
    PlaybookCase(
        "role-promote-user-profile-undefined",
        "promote_users[].profile that is not one of promote_profiles",
        "bootstrapped",
        ("profile of user rita: ops is not one of the profiles this run defines (developer)",),
        no_calls=True,
        playbook="promote",
        extra_vars={"promote_users": [{"name": "rita", "profile": "ops"}], "promote_profiles": DEVELOPER},
    ),
]
PLAYBOOK_CASES += PROFILE_PLAYBOOK_CASES

ALL_CASES = [*MODULE_CASES, *PLAYBOOK_CASES]


def index_of(case: Case) -> int:
    return ALL_CASES.index(case) + 1


def check_message(case: Case, message: str, values: dict[str, t.Any]) -> None:
    assert message, "no failure message"
    for fragment in case.fragments:
        expected = fragment.format(**values)
        assert expected in message, f"{expected!r} not in {message!r}"
    for fragment in case.absent:
        assert fragment not in message, f"{fragment!r} must not be in {message!r}"


def assert_kept(before: dict[str, t.Any], after: dict[str, t.Any], promoted: t.Sequence[str] = ()) -> None:
    """Nothing that was in the account is lost or changed, but the users the case expects promoted, which are
    (the current-users policy attached, out of the onboarding group)."""
    for name in promoted:
        user = after["users"][name]
        assert iam_state.CURRENT_USERS_ARN in user["policies"], user
        assert iam_state.ONBOARDING_GROUP not in user["groups"], user
    unchanged = {k: v for k, v in after["users"].items() if k not in promoted}
    assert dict(after, users=unchanged) == dict(
        before, users={k: v for k, v in before["users"].items() if k not in promoted}
    )


def test_cases_are_enough() -> None:
    # 48 rows up to 0.2; 0.3 adds 18 for the guards (invariant 7) and the handover (DESIGN section 4), and 33 for
    # issue 13 (inputs IAM rejects, per-user grants, adoption, self_enrollment, the password-policy floor), 26 for
    # issue 15 (promotion profiles). A floor, so that a row lost by accident fails here and not only in the table's
    # count.
    assert len(ALL_CASES) >= 132
    assert len({case.id for case in ALL_CASES}) == len(ALL_CASES)
    assert all(case.fragments for case in ALL_CASES)


# The modules, in-process.


@pytest.mark.parametrize("case", MODULE_CASES, ids=[case.id for case in MODULE_CASES])
def test_module_case(
    case: ModuleCase,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: t.Any,
    mail_trap: t.Any,
    api_calls: t.Any,
    run_module: t.Any,
    table: t.Any,
) -> None:
    from ansible_collections.mfa_onboarding.iam.plugins.modules import account_password_policy
    from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
    from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user_info
    from ansible_collections.mfa_onboarding.iam.plugins.modules import mfa_onboarding_policy

    module = {
        "account_password_policy": account_password_policy,
        "iam_onboard_user": iam_onboard_user,
        "iam_onboard_user_info": iam_onboard_user_info,
        "mfa_onboarding_policy": mfa_onboarding_policy,
    }[case.module]
    if case.aws_managed_policies:
        monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # before the backend exists
    iam = request.getfixturevalue("iam")
    ctx = types.SimpleNamespace(tmp=str(tmp_path), trap=mail_trap)
    args = dict(case.args(ctx) if callable(case.args) else case.args)
    if args.get("document") == "WILDCARD":
        args["document"] = wildcard_document()
    if isinstance(args.get("document"), dict):
        args["document"] = json.dumps(args["document"])
    setup_account(iam, case.setup)
    if case.arrange is not None:
        case.arrange(iam, ctx)
    before = snapshot(iam)

    api_calls.active = True
    result = run_module(module, args)
    api_calls.active = False
    made = writes(api_calls.names)

    message = str(result.get("msg", ""))
    via = f"module {case.module}"
    with table.row(index=index_of(case), via=via, case=case.case, expected=case.expected, message=message, writes=made):
        assert result.get("failed"), result
        check_message(case, message, {})
        assert made == list(case.writes), api_calls.names
        if case.no_calls:
            assert api_calls.names == [], api_calls.names
        assert bool(result.get("changed")) == bool(case.promoted), result
        assert_kept(before, snapshot(iam), case.promoted)
        if case.verify is not None:
            case.verify(ctx)


def test_module_recorder_counts_writes(iam: t.Any, api_calls: t.Any, run_module: t.Any) -> None:
    """The control for the zero counts above: a valid onboarding through the same recorder shows its writes."""
    from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user

    setup_account(iam, "bootstrapped")
    before = snapshot(iam)
    api_calls.active = True
    result = run_module(iam_onboard_user, {"name": "alice"})
    api_calls.active = False
    assert not result.get("failed"), result
    assert writes(api_calls.names) == list(ONBOARDED)
    assert snapshot(iam) != before


# The roles, through their playbooks.


def playbook_env(case: PlaybookCase, server: t.Any, ctx: types.SimpleNamespace) -> dict[str, str]:
    env = server.env()
    if case.env == "wrong_endpoint":
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{ctx.closed_port}"
    elif case.env == "no_credentials":
        # No access keys, token or profile in the environment, and a HOME without ~/.aws. The region stays (it is
        # not a credential), and so does the endpoint: if the run found credentials anywhere, its calls would land
        # in the counted moto server and never in a real account. The instance metadata service is switched off so
        # that the lookup fails at once instead of after a timeout (there is none on loopback).
        env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
        env.update(
            AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL=server.url,
            AWS_EC2_METADATA_DISABLED="true",
            HOME=ctx.home,
        )
    return ansible_env(env)


@pytest.mark.parametrize("case", PLAYBOOK_CASES, ids=[case.id for case in PLAYBOOK_CASES])
def test_playbook_case(
    case: PlaybookCase, tmp_path: t.Any, mail_trap: t.Any, request: pytest.FixtureRequest, table: t.Any
) -> None:
    moto_server = request.getfixturevalue(
        "moto_server_with_aws_policies" if case.aws_managed_policies else "moto_server"
    )
    ctx = types.SimpleNamespace(
        tmp=str(tmp_path), closed_port=free_port(), home=str(tmp_path / "home"), smtp=None, trap=mail_trap
    )
    os.makedirs(ctx.home)
    (tmp_path / "a-file").write_text("a regular file, not a directory\n")
    if case.id == "role-smtp-login-refused":
        ctx.smtp = request.getfixturevalue("refusing_smtp")
        del ctx.smtp.attempts[:]
    extra_vars = case.extra_vars(ctx) if callable(case.extra_vars) else case.extra_vars

    moto_server.reset()  # every backend's state forgotten; the recording restarts once the scene is set
    iam = moto_server.iam_client()
    setup_account(iam, case.setup)
    if case.arrange is not None:
        case.arrange(iam, ctx)
    before = snapshot(iam)
    moto_server.reset_recording()

    run = run_playbook(case.playbook, extra_vars, playbook_env(case, moto_server, ctx), str(tmp_path))
    actions = moto_server.actions()
    made = writes(actions)
    after = snapshot(iam)

    values = {"tmp": ctx.tmp, "closed_port": ctx.closed_port, "smtp_port": ctx.smtp.port if ctx.smtp else None}
    via = f"playbook {case.playbook}"
    with table.row(
        index=index_of(case), via=via, case=case.case, expected=case.expected, message=run.message, writes=made
    ):
        assert run.rc != 0, run.stdout
        check_message(case, run.message, values)
        assert made == list(case.writes), f"write calls {made}; output:\n{run.stdout[-3000:]}"
        if case.no_calls:
            assert actions == [], f"API calls {actions}; output:\n{run.stdout[-3000:]}"
        # Nothing already there is lost (or changed); the users the run may create are checked on their own.
        kept = dict(after, users={k: v for k, v in after["users"].items() if k not in case.new_users})
        assert_kept(before, kept, case.promoted)
        for name in case.new_users:
            # Created before the failure: guarded by the onboarding group only, nothing else.
            user = after["users"][name]
            assert user["groups"] == ["NotYetLoginUsers"], user
            assert user["policies"] == [] and user["inline"] == [] and user["access_keys"] == [], user
        if ctx.smtp is not None:
            # smtplib tries each mechanism the server offers (PLAIN, LOGIN) before it gives up.
            assert ctx.smtp.attempts and set(ctx.smtp.attempts) == {"mailer"}, ctx.smtp.attempts
        if case.verify is not None:
            case.verify(ctx)
