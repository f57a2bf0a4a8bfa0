# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the molecule scenarios' check scripts and the suites that read handover notes share: the moto server named
by a scenario's state file, the console passwords moto holds, handover texts, one user's IAM state, named checks.

Nothing here prints a password: checks compare secrets and report only user names and what differed.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import typing as t
import urllib.request

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import read_user

ACCOUNT_ID = "123456789012"
CONSOLE_URL = f"https://{ACCOUNT_ID}.signin.aws.amazon.com/console"
FIRST_LOGIN_POLICY = "MFARequiredOnlyForTheFirstLogin"
CURRENT_USERS_POLICY = "MFARequiredForCurrentUsers"
ONBOARDING_GROUP = "NotYetLoginUsers"
MFA_DENY_SID = "DenyAllExceptListedIfNoMFA"
FIRST_LOGIN_EXCEPTIONS = ("iam:ChangePassword", "iam:GetAccountPasswordPolicy")

_PASSWORD_LINE = re.compile(r"^[ \t]*Temporary password:[ \t]*(\S+)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_URL_LINE = re.compile(r"^[ \t]*Sign-in URL:[ \t]*(\S+)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_USER_LINE = re.compile(r"^[ \t]*User name:[ \t]*(\S+)[ \t]*$", re.IGNORECASE | re.MULTILINE)


def playbook(server: t.Any, name: str, extra_vars: dict[str, t.Any], *options: str) -> tuple[int, str]:
    """ansible-playbook mfa_onboarding.iam.<name> against a moto server (tests/support/moto_server.MotoServer), with
    extra vars as JSON: (exit code, stdout and stderr)."""
    env = dict(server.env(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    process = subprocess.run(
        ["ansible-playbook", f"mfa_onboarding.iam.{name}", "-e", json.dumps(extra_vars), *options],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return process.returncode, process.stdout + process.stderr


def moto_url(state_file: str) -> str:
    """The url of the moto server that `moto_server start --state-file` started."""
    with open(state_file, encoding="utf-8") as handle:
        return str(json.load(handle)["url"])


def stored_passwords(url: str) -> dict[str, str]:
    """The console password that moto keeps for each user (moto only: real IAM never reveals one)."""
    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=10) as response:
        data = json.load(response)
    return {user["name"]: user["password"] for user in data["iam"]["User"] if user.get("password")}


def handover_fields(text: str) -> dict[str, str | None]:
    """User name, sign-in URL and temporary password as a note or mail states them (None when missing). A mail's
    body keeps the CRLF line ends of SMTP."""
    text = text.replace("\r\n", "\n")
    fields: dict[str, str | None] = {}
    for key, pattern in (("user", _USER_LINE), ("url", _URL_LINE), ("password", _PASSWORD_LINE)):
        found = pattern.findall(text)
        fields[key] = found[0] if len(found) == 1 else None
    return fields


class Notes(t.NamedTuple):
    """A file handover directory as the file channel leaves it: per user, the password in its current note
    (<name>.txt) and in a staged one (.<name>.txt.new, written but not yet put in place); every other file
    (backups <name>.txt.<stamp>~, temporary files of a write that was cut off); the current notes' modes."""

    current: dict[str, str | None]
    staged: dict[str, str | None]
    others: list[str]
    modes: dict[str, str]


def handover_notes(directory: str) -> Notes:
    """Read a file handover directory (an absent one is empty)."""
    current: dict[str, str | None] = {}
    staged: dict[str, str | None] = {}
    others: list[str] = []
    modes: dict[str, str] = {}
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        names = []
    for name in names:
        path = os.path.join(directory, name)
        if name.startswith(".") and name.endswith(".txt.new"):
            into, user = staged, name[1 : -len(".txt.new")]
        elif name.endswith(".txt") and not name.startswith("."):
            into, user = current, name[: -len(".txt")]
            modes[user] = mode(path)
        else:
            others.append(name)
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                into[user] = handover_fields(handle.read())["password"]
        except FileNotFoundError:
            # Read while a run works in the directory: a staged note listed a moment ago has been put in place.
            into.pop(user, None)
            modes.pop(user, None)
    return Notes(current, staged, others, modes)


# What a user is after an onboarding with a handover channel was cut off (invariant 6), from IAM's mark
# (mfa-onboarding:handover), the console password moto holds and the notes.
HANDOVER_TAG = "mfa-onboarding:handover"
ABSENT = "absent"
PENDING_NO_PASSWORD = "pending, no password"
PENDING_PASSWORD = "pending, password not delivered"
DELIVERED_STAGED = "delivered, note staged"
DELIVERED_IN_PLACE = "delivered, note in place"
OUTCOMES = (ABSENT, PENDING_NO_PASSWORD, PENDING_PASSWORD, DELIVERED_STAGED, DELIVERED_IN_PLACE)
DELIVERED = (DELIVERED_STAGED, DELIVERED_IN_PLACE)


def handover_outcome(
    name: str, exists: bool, mark: str | None, password: str | None, notes: Notes
) -> tuple[str, list[str]]:
    """One user's outcome (OUTCOMES) and every breach of invariant 6 in it: a console password with neither the
    pending mark nor a note holding it, a user marked delivered that no note holds the password of, a note put in
    place for a user still pending or holding another password than IAM's. Messages name users, never passwords."""
    current, staged = notes.current.get(name), notes.staged.get(name)
    if not exists:
        return ABSENT, [f"{name} does not exist but has a note"] if current or staged else []
    problems = []
    if name in notes.current and (mark != "delivered" or current != password):
        holds = "IAM's password" if current == password else "another password than IAM's"
        problems.append(f"{name}'s note {name}.txt is in place, but {name} is marked {mark} and the note holds {holds}")
    if mark == "delivered":
        if password is not None and password == current:
            return DELIVERED_IN_PLACE, problems
        if password is not None and password == staged:
            return DELIVERED_STAGED, problems
        return DELIVERED_STAGED, [*problems, f"{name} is marked delivered but no note holds its password in IAM"]
    if mark == "pending":
        return (PENDING_PASSWORD if password else PENDING_NO_PASSWORD), problems
    if password is not None:
        problems.append(f"{name} has a console password in IAM, no {HANDOVER_TAG} mark and no delivered note")
    return PENDING_NO_PASSWORD, [*problems, f"{name} exists without a {HANDOVER_TAG} mark"]


class MotoUser(t.NamedTuple):
    tags: dict[str, str]
    password: str | None
    groups: list[str]


def moto_users(url: str) -> dict[str, MotoUser]:
    """Every user as moto's backend holds it (one request, passwords included: moto only)."""
    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=30) as response:
        data = json.load(response)
    return {
        user["name"]: MotoUser(
            {tag["Key"]: tag["Value"] for tag in user.get("tags") or []},
            user.get("password") or None,
            list(user.get("group_list") or []),
        )
        for user in data["iam"]["User"]
    }


def mode(path: str) -> str:
    """The permission bits as 0o...; for a symbolic link, of the link's target."""
    return oct(stat.S_IMODE(os.stat(path).st_mode))


class UserState(t.NamedTuple):
    groups: set[str]
    attached: set[str]
    inline: set[str]
    mfa_serials: list[str]
    login_profile: bool
    path: str
    tags: dict[str, str]


def user_state(iam: t.Any, name: str) -> UserState:
    """One user as the collection's reader of IAM state sees it (_observe.read_user, inline policies included)."""
    user = read_user(iam, name, inline=True)
    if not user.exists:
        raise LookupError(f"user {name} does not exist")
    return UserState(
        groups=set(user.groups or ()),
        attached={arn.rsplit("/", 1)[-1] for arn in user.managed_policies or ()},
        inline=set(user.inline_policies or ()),
        mfa_serials=[device.serial_number for device in user.mfa_devices or ()],
        login_profile=bool(user.console_password),
        path=str(user.path),
        tags=dict(user.tags),
    )


def policy_document(iam: t.Any, name: str) -> dict[str, t.Any] | None:
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        if policy["PolicyName"] == name:
            version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
            document = version["PolicyVersion"]["Document"]
            return json.loads(document) if isinstance(document, str) else t.cast("dict[str, t.Any]", document)
    return None


def mfa_deny_exceptions(document: dict[str, t.Any]) -> list[str] | None:
    """The NotAction of the statement that denies everything else without MFA (None when there is none)."""
    for statement in document.get("Statement", []):
        if statement.get("Sid") == MFA_DENY_SID and statement.get("Effect") == "Deny":
            actions = statement.get("NotAction", [])
            return [actions] if isinstance(actions, str) else list(actions)
    return None


def check_onboarding(checks: Checks, iam: t.Any, name: str) -> None:
    """The user is in the onboarding state only: the onboarding group, nothing attached, a password, no MFA."""
    state = user_state(iam, name)
    checks.equal(state.groups, {ONBOARDING_GROUP}, f"{name}'s groups")
    checks.equal(state.attached, set(), f"{name}'s attached policies")
    checks.equal(state.inline, set(), f"{name}'s inline policies")
    checks.check(state.login_profile, f"{name} has a console password")
    checks.equal(state.mfa_serials, [], f"{name}'s MFA devices")


class Checks:
    """Collects named checks; `done()` prints the failures and returns the exit code."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.passed = 0
        self.failed: list[str] = []

    def check(self, condition: object, what: str) -> bool:
        if condition:
            self.passed += 1
            return True
        self.failed.append(what)
        return False

    def equal(self, actual: object, expected: object, what: str) -> bool:
        return self.check(actual == expected, f"{what}: expected {expected!r}, found {actual!r}")

    def done(self) -> int:
        for failure in self.failed:
            print(f"FAILED: {failure}")
        print(f"{self.title}: {self.passed} checks passed, {len(self.failed)} failed")
        return 1 if self.failed else 0
