# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Crash at every write of an expiry, a disabling and an offboarding (DESIGN.md section 1, Expire and Disable /
offboard; invariants 1 and 2 and invariant 1's offboarding order; issue 14, item 4).

One module run per state, over a few users, as the expire and offboard roles make it:

- `absent` and `disabled`: leo, a promoted "full" user (a console password, two access keys one of them inactive,
  a signing certificate, an SSH public key, a CodeCommit service-specific credential, an inline policy, two
  attached policies (the current-users guard and AppReadOnly), three groups and a virtual MFA device); una, a
  user still onboarding (a temporary password, the onboarding group) who gave up halfway through registration (an
  unassigned virtual MFA device named after her); for `absent` also ghost, who does not exist;
- `expired`: una and uri, onboarding, their temporary passwords never used and older than the limit (the module's
  clock moved 8 days on), una with an unassigned virtual MFA device named after her (deleted after her password);
  mo, onboarding too but with an MFA device registered, refused by name and untouched;
- `onboarding` again: leo as `disabled` leaves him (his grants kept for audit, every credential inactive) and una
  as `expired` leaves her, both onboarded again (handover none).

A clean run is counted first (N writes). Then, for every k from 1 to N, on a fresh account, the fault point lets k
writes through and fails every later request (a kill right after the k-th write). From the IAM state at k alone
(never from the module's plan):

- invariant 1: every user with a console password or a credential (an access key of any status, an active signing
  certificate, SSH key or service-specific credential) is covered by an MFA guard;
- invariant 2: a user without an MFA device holds nothing beyond the guards (during offboarding the grants go
  before the MFA devices, so this holds at every k);
- a user the run must leave alone (mo) is as it was;
- a rerun without faults reaches exactly the end state of the uninterrupted run (the same snapshot function), and
  that end state is the state's: for `absent` nothing of the offboarded users left (the users, their keys, the
  virtual MFA devices named after them); for `disabled` no console password and nothing active, the grants kept,
  the tag; for `expired` the passwords gone, the guard kept, the tag, no device named after una; for `onboarding`
  each user in the onboarding group only, with no policy, a console password, no expired or disabled mark, and
  its inactive credentials still inactive.

moto's missing service-specific credentials are supplied as AWS answers them (tests/support/moto_patched.py,
applied by the fault point fixture).
"""

from __future__ import annotations

import collections
import datetime
import json
import time
import typing as t

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _leaving
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _run
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _steps
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support import full_user as support_full_user
from ansible_collections.mfa_onboarding.iam.tests.support import guards
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import reports
from ansible_collections.mfa_onboarding.iam.tests.support.faults import CRASH_CODE
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.faults import caught_at
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

GROUP = iam_state.ONBOARDING_GROUP
CURRENT = iam_state.CURRENT_USERS_ARN
APP = iam_state.EXTRA_POLICY_ARN
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
GROUPS = ("Developers", "Ops", "Audit")
INLINE = "legacy"
LATER = datetime.timedelta(days=8)  # the module's clock at expiry: past the default limit of 7 days


def _key_material() -> tuple[str, str]:
    """A valid ssh-rsa public key and a self-signed X.509 certificate (PEM), from one RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ssh = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leo")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return ssh.decode(), certificate.public_bytes(serialization.Encoding.PEM).decode()


SSH_KEY, CERTIFICATE = _key_material()


def full_user(iam: t.Any, name: str = "leo") -> None:
    """A promoted user holding one of everything (as in the issue's "full user")."""
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="His-own-Passw0rd!x", PasswordResetRequired=False)
    register_mfa(iam, name)
    iam.attach_user_policy(UserName=name, PolicyArn=CURRENT)
    iam.attach_user_policy(UserName=name, PolicyArn=APP)
    iam.put_user_policy(UserName=name, PolicyName=INLINE, PolicyDocument=json.dumps(EVERYTHING))
    for group in GROUPS:
        iam.add_user_to_group(UserName=name, GroupName=group)
    first = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam.create_access_key(UserName=name)
    iam.update_access_key(UserName=name, AccessKeyId=first, Status="Inactive")
    iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=SSH_KEY)
    iam.upload_signing_certificate(UserName=name, CertificateBody=CERTIFICATE)
    support_full_user.add_service_specific_credential(iam, name)


def onboarding_user(iam: t.Any, name: str) -> None:
    """A user as onboarding leaves it: a temporary password (never used), the onboarding group."""
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=f"{name.title()}-temp-Passw0rd!x", PasswordResetRequired=True)
    iam.add_user_to_group(UserName=name, GroupName=GROUP)


def base_account(iam: t.Any) -> None:
    iam_state.bootstrap_guards(iam)
    iam_state.create_extras(iam)  # Developers, AppReadOnly
    for group in GROUPS[1:]:
        iam.create_group(GroupName=group)


def leavers_setup(iam: t.Any) -> None:
    base_account(iam)
    full_user(iam, "leo")
    onboarding_user(iam, "una")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="una")  # a registration given up halfway


def expiry_setup(iam: t.Any) -> None:
    base_account(iam)
    for name in ("una", "uri", "mo"):
        onboarding_user(iam, name)
    register_mfa(iam, "mo")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="una")  # a registration given up halfway


def returning_setup(iam: t.Any) -> None:
    """leo as disabling leaves him, una as expiry leaves her (made by root, not by the module under test)."""
    base_account(iam)
    full_user(iam, "leo")
    iam.delete_login_profile(UserName="leo")
    for key in iam.list_access_keys(UserName="leo")["AccessKeyMetadata"]:
        iam.update_access_key(UserName="leo", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    for certificate in iam.list_signing_certificates(UserName="leo")["Certificates"]:
        iam.update_signing_certificate(UserName="leo", CertificateId=certificate["CertificateId"], Status="Inactive")
    for ssh in iam.list_ssh_public_keys(UserName="leo")["SSHPublicKeys"]:
        iam.update_ssh_public_key(UserName="leo", SSHPublicKeyId=ssh["SSHPublicKeyId"], Status="Inactive")
    for credential in iam.list_service_specific_credentials(UserName="leo")["ServiceSpecificCredentials"]:
        iam.update_service_specific_credential(
            UserName="leo", ServiceSpecificCredentialId=credential["ServiceSpecificCredentialId"], Status="Inactive"
        )
    iam.tag_user(UserName="leo", Tags=[{"Key": lc.DISABLED_TAG, "Value": "2026-11-30"}])
    iam.create_user(UserName="una", Tags=[{"Key": lc.EXPIRED_TAG, "Value": "2026-11-30"}])
    iam.add_user_to_group(UserName="una", GroupName=GROUP)


class Case(t.NamedTuple):
    setup: t.Callable[[t.Any], None]
    args: dict[str, t.Any]
    done: tuple[str, ...]  # the users the run must bring to the state
    untouched: tuple[str, ...]  # the users it must refuse and leave as they were
    writes: list[str]  # what the uninterrupted run writes, sorted
    stages: dict[str, str] | None = None  # the stage each user done reaches, when it is not the state's name


def _writes(counts: dict[str, int]) -> list[str]:
    return sorted(collections.Counter(counts).elements())


CASES = {
    # leo 15 (password, two keys, certificate, SSH key, service-specific credential, inline, AppReadOnly, three
    # groups, deactivate and delete the device, the current-users policy, the user), una 4 (password, her
    # unassigned device, the guard, the user).
    "absent": Case(
        leavers_setup,
        {"state": "absent", "users": [{"name": n} for n in ("leo", "una", "ghost")], "concurrency": 4},
        ("leo", "una", "ghost"),
        (),
        _writes({
            "DeleteLoginProfile": 2, "DeleteAccessKey": 2, "DeleteSigningCertificate": 1, "DeleteSSHPublicKey": 1,
            "DeleteServiceSpecificCredential": 1, "DeleteUserPolicy": 1, "DetachUserPolicy": 2,
            "RemoveUserFromGroup": 4, "DeactivateMFADevice": 1, "DeleteVirtualMFADevice": 2, "DeleteUser": 2,
        }),
    ),
    # leo 6 (password, the active key, certificate, SSH key, service-specific credential, tag), una 2 (password,
    # tag).
    "disabled": Case(
        leavers_setup,
        {"state": "disabled", "users": [{"name": n} for n in ("leo", "una")], "concurrency": 4},
        ("leo", "una"),
        (),
        _writes({
            "DeleteLoginProfile": 2, "UpdateAccessKey": 1, "UpdateSigningCertificate": 1, "UpdateSSHPublicKey": 1,
            "UpdateServiceSpecificCredential": 1, "TagUser": 2,
        }),
    ),
    # una 3 (tag, password, her unassigned device), uri 2 (tag, password); mo refused.
    "expired": Case(
        expiry_setup,
        {"state": "expired", "users": [{"name": n} for n in ("una", "uri", "mo")], "concurrency": 4},
        ("una", "uri"),
        ("mo",),
        _writes({"TagUser": 2, "DeleteLoginProfile": 2, "DeleteVirtualMFADevice": 1}),
    ),
    # leo 9 (the guard, AppReadOnly and the current-users policy, the inline policy, three groups, the mark, a
    # password), una 2 (the mark, a password).
    "onboarding": Case(
        returning_setup,
        {"state": "onboarding", "users": [{"name": n} for n in ("leo", "una")], "handover": "none", "concurrency": 4},
        ("leo", "una"),
        (),
        _writes({
            "AddUserToGroup": 1, "DetachUserPolicy": 2, "DeleteUserPolicy": 1, "RemoveUserFromGroup": 3,
            "UntagUser": 2, "CreateLoginProfile": 2,
        }),
        {"leo": "ready", "una": "onboarding"},
    ),
}  # fmt: skip


@pytest.fixture(autouse=True)
def crash_is_a_crash(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    """No retry layer may turn the injected crash into a success (as in test_crash_at_every_call.py); the module's
    clock 8 days on (a temporary password created now is then older than the limit)."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    later = datetime.datetime.now(datetime.timezone.utc) + LATER
    monkeypatch.setattr(_run, "now_utc", lambda: later)


def snapshot(iam: t.Any) -> dict[str, t.Any]:
    """iam_state.snapshot, with what it leaves out and leaving concerns: per user the status of every access key,
    signing certificate, SSH key and service-specific credential; the account's virtual MFA devices (serial
    number, the user it is assigned to or None)."""
    state = iam_state.snapshot(iam)
    for name, user in state["users"].items():
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        certificates = iam.list_signing_certificates(UserName=name)["Certificates"]
        ssh_keys = iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"]
        user["access_key_statuses"] = sorted(k["Status"] for k in keys)
        user["certificates"] = sorted(c["Status"] for c in certificates)
        user["ssh_keys"] = sorted(k["Status"] for k in ssh_keys)
        credentials = iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"]
        user["service_credentials"] = sorted(c["Status"] for c in credentials)
    devices = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    state["virtual_mfa"] = sorted((d["SerialNumber"], (d.get("User") or {}).get("UserName")) for d in devices)
    return state


def invariant_problems(state: t.Mapping[str, t.Any]) -> list[str]:
    """Invariants 1 and 2 over the whole account (guards.violations), and invariant 1 for the credentials
    guards.py does not read: an active signing certificate, SSH key or service-specific credential.

    Invariant 2 allows the guard policies (DESIGN: "nothing beyond the guard policies"); guards.py, written for
    onboarding and promotion, also counts the current-users policy on a user without MFA, which offboarding
    leaves for a moment by design (the MFA devices go before the guards)."""
    problems = [v for v in guards.violations(state) if v.startswith("invariant 1")]
    unguarded = {
        name: dict(user, policies=[p for p in user["policies"] if p != CURRENT])
        for name, user in state["users"].items()
    }
    problems += [v for v in guards.violations(dict(state, users=unguarded)) if v.startswith("invariant 2")]
    for name, user in sorted(state["users"].items()):
        view = dict(user, group_policies=sorted({p for g in user["groups"] for p in state["groups"][g]["policies"]}))
        active = [kind for kind in ("certificates", "ssh_keys", "service_credentials") if "Active" in user[kind]]
        if active and not guards.guarded(view):
            problems.append(f"invariant 1: user {name} holds active {' and '.join(active)} without an MFA guard")
    return problems


def named_after(state: t.Mapping[str, t.Any], name: str) -> list[str]:
    return [serial for serial, _user in state["virtual_mfa"] if serial.endswith(f":mfa/{name}")]


def end_problems(state_name: str, before: t.Mapping[str, t.Any], end: t.Mapping[str, t.Any]) -> list[str]:
    """Whether the uninterrupted run's end state is the state's (see the module docstring)."""
    case = CASES[state_name]
    problems = []
    for name in case.done:
        user = end["users"].get(name)
        if state_name == "absent":
            if user is not None:
                problems.append(f"{name} is left: {user}")
            if named_after(end, name):
                problems.append(f"virtual MFA devices named after {name} are left: {named_after(end, name)}")
            continue
        if user is None:
            problems.append(f"{name} is gone")
            continue
        was = before["users"][name]
        if state_name == "onboarding":
            held = (user["groups"], user["policies"], user["inline_policies"], user["login_profile"])
            if held != ([GROUP], [], [], True):
                problems.append(f"{name} holds (groups, policies, inline policies, password) {held}")
            marks = [tag for tag in (lc.EXPIRED_TAG, lc.DISABLED_TAG) if tag in user["tags"]]
            if marks:
                problems.append(f"{name} still carries {marks}")
            statuses = ("access_key_statuses", "certificates", "ssh_keys", "service_credentials")
            if any("Active" in user[kind] for kind in statuses):
                problems.append(f"{name} has an inactive credential active again")
            continue
        if state_name == "expired" and named_after(end, name):
            problems.append(f"virtual MFA devices named after {name} are left: {named_after(end, name)}")
        live = [
            kind
            for kind, held in (
                ("a console password", user["login_profile"]),
                ("active access keys", user["active_access_keys"]),
                ("active certificates", "Active" in user["certificates"]),
                ("active SSH keys", "Active" in user["ssh_keys"]),
                ("active service-specific credentials", "Active" in user["service_credentials"]),
            )
            if held
        ]
        if live:
            problems.append(f"{name} still holds {', '.join(live)}")
        tag = lc.EXPIRED_TAG if state_name == "expired" else lc.DISABLED_TAG
        if tag not in user["tags"]:
            problems.append(f"{name} is not tagged {tag}")
        kept = ("groups", "policies", "inline_policies", "mfa_devices", "access_keys")
        lost = [what for what in kept if user[what] != was[what]]
        if lost:
            problems.append(f"{name} lost its {', '.join(lost)}")
    return problems


def untouched_problems(case: Case, before: t.Mapping[str, t.Any], state: t.Mapping[str, t.Any]) -> list[str]:
    changed = [name for name in case.untouched if state["users"].get(name) != before["users"][name]]
    return [f"{name} was changed: {state['users'].get(name)}" for name in changed]


def results_problems(case: Case, result: t.Mapping[str, t.Any], state_name: str) -> list[str]:
    """The uninterrupted run: the users done are in the state, the others refused by name."""
    problems = []
    by_name = {user["name"]: user for user in result.get("users") or []}
    for name in case.done:
        user = by_name.get(name) or {}
        if user.get("failed") or user.get("stage") != (case.stages or {}).get(name, state_name):
            problems.append(f"{name}'s result: {user}")
    for name in case.untouched:
        user = by_name.get(name) or {}
        if not (user.get("failed") and user.get("refused") and name in (user.get("msg") or "")):
            problems.append(f"{name} was not refused by name: {user}")
    return problems


def failed_users(result: t.Mapping[str, t.Any], case: Case) -> set[str]:
    return {u["name"] for u in result.get("users") or [] if u.get("failed") and u["name"] not in case.untouched}


class Sweep(t.NamedTuple):
    writes: int
    failures: list[str]
    seconds: float


def leaving_sweep(
    state_name: str,
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    stop_when: t.Callable[[str], bool] | None = None,
) -> Sweep:
    """N, and the problems found (the uninterrupted run's first, then one message per failed k); [] when all
    passed. stop_when (for the mutant controls): the sweep stops at the first failure it holds true for."""
    case = CASES[state_name]
    started = time.monotonic()
    failures = []
    fault_point.reset_backend()
    case.setup(iam)
    before = snapshot(iam)
    fault_point.clear()
    clean = run_module(iam_onboard_user, case.args)
    served = list(fault_point.writes_served)
    reference = snapshot(iam)
    end = [] if sorted(served) == case.writes else [f"it wrote {served}"]
    end += results_problems(case, clean, state_name) + invariant_problems(reference)
    end += end_problems(state_name, before, reference) + untouched_problems(case, before, reference)
    writes = len(served)
    if end:
        failures.append("the uninterrupted run: " + "; ".join(end))
        if stop_when is not None and stop_when(failures[-1]):
            return Sweep(writes, failures, time.monotonic() - started)

    for k in range(1, writes + 1):
        fault_point.reset_backend()
        case.setup(iam)
        before = snapshot(iam)
        retries.clear()
        fault_point.crash_after(k)
        interrupted = run_module(iam_onboard_user, case.args)
        fault_point.off()
        let_through = fault_point.writes_served
        state = snapshot(iam)
        problems = invariant_problems(state) + untouched_problems(case, before, state)
        if len(let_through) != k:
            problems.append(f"{len(let_through)} writes reached moto, not {k}")
        if bool(failed_users(interrupted, case)) != (k < writes):
            problems.append(f"the interrupted run failed for {sorted(failed_users(interrupted, case))}")
        if k < writes and not fault_point.faults[CRASH_CODE]:
            problems.append("the fault point never answered InjectedCrash")
        if retries.total:
            problems.append(f"the crash was retried ({retries.total} retries)")
        rerun = run_module(iam_onboard_user, case.args)
        if failed_users(rerun, case):
            problems.append(f"the rerun failed for {sorted(failed_users(rerun, case))}: {rerun.get('msg')}")
        after = snapshot(iam)
        if after != reference:
            ended, expected = (after["users"], after["virtual_mfa"]), (reference["users"], reference["virtual_mfa"])
            problems.append(f"the rerun ended in {ended}, not in {expected}")
        if problems:
            failures.append(f"k={k} after {let_through}: " + "; ".join(problems))
            if stop_when is not None and stop_when(failures[-1]):
                break
    return Sweep(writes, failures, time.monotonic() - started)


@pytest.mark.parametrize("state_name", list(CASES))
def test_crash_at_every_write_of_a_leaving(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    capsys: pytest.CaptureFixture[str],
    record_property: t.Callable[[str, object], None],
    state_name: str,
) -> None:
    writes, failures, seconds = leaving_sweep(state_name, fault_point, iam, run_module, retries)
    users = ", ".join(u["name"] for u in CASES[state_name].args["users"])
    text = (
        f"{state_name} crash matrix: {writes - len(failures)}/{writes} crash points passed (crash after k of the "
        f"{writes} writes of a clean run; users {users} in one module run; {seconds:.1f} s)"
    )
    path = reports.write(f"crash-matrix-{state_name}.txt", "\n".join([text, *failures]))
    record_property(f"crash_matrix_{state_name}", text)
    with capsys.disabled():
        print(f"\n{text}\n(written to {path})")
    assert failures == []


# The sweep must fail for a module that gets a leaving wrong: the same module with a planner patched.


def _reordered(rank: dict[str, int]) -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
    def mutate(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        def plan(*args: t.Any, **kwargs: t.Any) -> t.Any:
            steps, notes, refusal = original(*args, **kwargs)
            return lc.Plan(sorted(steps, key=lambda s: rank.get(s.action, 1)), notes, refusal)

        return plan

    return mutate


def _without(action: str) -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
    def mutate(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        def plan(*args: t.Any, **kwargs: t.Any) -> t.Any:
            steps, notes, refusal = original(*args, **kwargs)
            return lc.Plan([s for s in steps if s.action != action], notes, refusal)

        return plan

    return mutate


def _trusting_the_tag(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """A disabling that writes its tag first and takes a tagged user for done: a kill after the tag leaves live
    credentials that no rerun deactivates."""

    def plan(observed: lc.Observed, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if lc.DISABLED_TAG in dict(observed.tags):
            return lc.Plan([], [])
        steps, notes, refusal = original(observed, *args, **kwargs)
        return lc.Plan(sorted(steps, key=lambda s: s.action != _steps.TAG_USER), notes, refusal)

    return plan


MUTANTS = {
    "offboarding: the MFA devices before the grants": (
        "absent", "plan_offboarding", _reordered({_steps.DEACTIVATE_MFA: 0, _steps.DELETE_VIRTUAL_MFA: 0}),
        "invariant 2"),
    "disabling forgets the access keys": (
        "disabled", "plan_disable", _without(_steps.DEACTIVATE_ACCESS_KEY), "still holds active access keys"),
    "disabling forgets the service-specific credentials": (
        "disabled", "plan_disable", _without(_steps.DEACTIVATE_SERVICE_CREDENTIAL),
        "still holds active service-specific credentials"),
    "disabling tags first and trusts its tag": ("disabled", "plan_disable", _trusting_the_tag, "the rerun ended in"),
    "expiry deletes the password before tagging": (
        "expired", "plan_expiry", _reordered({_steps.DELETE_LOGIN_PROFILE: 0}), "the rerun failed"),
}  # fmt: skip


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_the_leaving_sweep_catches_a_wrong_module(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mutant: str,
) -> None:
    state_name, planner, mutate, expected = MUTANTS[mutant]
    monkeypatch.setattr(_leaving, planner, mutate(getattr(_leaving, planner)))
    # A control only has to show that the sweep can fail: it stops at the first failure showing the expected text.
    writes, failures, _seconds = leaving_sweep(
        state_name, fault_point, iam, run_module, retries, stop_when=lambda failure: expected in failure
    )
    with capsys.disabled():
        print(f"\n{state_name} mutant '{mutant}': {caught_at(failures, writes, expected)}")
        print(f"  first: {failures[0][:400]}" if failures else "  not caught")
    assert failures
    assert any(expected in failure for failure in failures), failures
    # Caught by the invariants and the convergence, not by a harness that broke.
    assert not any("writes reached moto" in f for f in failures), failures
