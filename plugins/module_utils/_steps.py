# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The write steps of the lifecycle: one table, one row per kind of step.

A row says, for one kind (named after the IAM action it makes):

- call:   how the shell makes it, through the boto3 layer (_iam.py);
- effect: what it does to the observed state of the user (pure; check mode, diff and results use it);
- label:  how it is shown in `actions` and in error messages.

A planner (_lifecycle.py) returns Steps; `execute` runs them in order and stops at the first failure. A new kind
of step is a new row here and nothing else.
"""

from __future__ import annotations

import typing as t

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam

CREATE_USER = "CreateUser"
ADD_TO_GROUP = "AddUserToGroup"
CREATE_LOGIN_PROFILE = "CreateLoginProfile"
UPDATE_LOGIN_PROFILE = "UpdateLoginProfile"
ATTACH_POLICY = "AttachUserPolicy"
REMOVE_FROM_GROUP = "RemoveUserFromGroup"
DETACH_POLICY = "DetachUserPolicy"
DELETE_INLINE_POLICY = "DeleteUserPolicy"
DEACTIVATE_ACCESS_KEY = "UpdateAccessKey"  # to Inactive: target is the access key id
# The end of the lifecycle (_leaving.py): targets are credential ids, MFA serial numbers, or nothing (the user).
DELETE_LOGIN_PROFILE = "DeleteLoginProfile"
DELETE_ACCESS_KEY = "DeleteAccessKey"
DEACTIVATE_CERTIFICATE = "UpdateSigningCertificate"  # to Inactive
DELETE_CERTIFICATE = "DeleteSigningCertificate"
DEACTIVATE_SSH_KEY = "UpdateSSHPublicKey"  # to Inactive
DELETE_SSH_KEY = "DeleteSSHPublicKey"
DEACTIVATE_SERVICE_CREDENTIAL = "UpdateServiceSpecificCredential"  # to Inactive
DELETE_SERVICE_CREDENTIAL = "DeleteServiceSpecificCredential"
DEACTIVATE_MFA = "DeactivateMFADevice"
DELETE_VIRTUAL_MFA = "DeleteVirtualMFADevice"
DELETE_USER = "DeleteUser"
TAG_USER = "TagUser"
UNTAG_USER = "UntagUser"
# Not an IAM call: the temporary password just set goes to its channel (a note, a mail); target describes where.
HANDOVER = "Handover"


class Step(t.NamedTuple):
    """One write call. target is a group name, a policy ARN, a tag dict or a list of tag keys (see TABLE)."""

    action: str
    target: t.Any = None


class Context(t.NamedTuple):
    """What the calls of one user need beyond their steps."""

    path: str
    new_password: t.Callable[[], str]
    password_reset_required: bool
    # Hands the password over (raises _handover.HandoverError); only called for a planned Handover step.
    hand_over: t.Callable[[str], None] | None = None


class Outcome:
    """What the calls of one user produced: the new user, the new login profile, the password that was set."""

    def __init__(self) -> None:
        self.user: dict[str, t.Any] | None = None
        self.login_profile: dict[str, t.Any] | None = None
        self.password: str | None = None


Call = t.Callable[[t.Any, str, t.Any, Context, Outcome], None]


class Kind(t.NamedTuple):
    call: Call
    effect: t.Callable[[t.Any, t.Any], t.Any]
    label: t.Callable[[str, t.Any], str]


# Calls: (client, user name, target, context, outcome).


def _create_user(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    tags = ansible_dict_to_boto3_tag_list(target or {})
    outcome.user = _iam.create_user(client, name, context.path, tags)


def _add_to_group(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.add_user_to_group(client, name, target)


def _remove_from_group(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.remove_user_from_group(client, name, target)


def _attach_policy(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.attach_user_policy(client, name, target)


def _detach_policy(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.detach_user_policy(client, name, target)


def _delete_inline_policy(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.delete_user_policy(client, name, target)


def _deactivate_access_key(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.update_access_key(client, name, target, "Inactive")


def _create_login_profile(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    password = context.new_password()
    outcome.login_profile = _iam.create_login_profile(client, name, password, context.password_reset_required)
    outcome.password = password


def _update_login_profile(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    password = context.new_password()
    _iam.update_login_profile(client, name, password, context.password_reset_required)
    outcome.password = password


def _hand_over(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    if context.hand_over is None or outcome.password is None:  # planned only right after a password step
        raise AssertionError(f"user {name}: a handover was planned without a password to hand over")
    context.hand_over(outcome.password)


def _tag_user(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.tag_user(client, name, ansible_dict_to_boto3_tag_list(target))


def _untag_user(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.untag_user(client, name, list(target))


def _delete_login_profile(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.delete_login_profile(client, name)


def _delete_access_key(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.delete_access_key(client, name, target)


def _deactivate_certificate(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.update_signing_certificate(client, name, target, "Inactive")


def _delete_certificate(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.delete_signing_certificate(client, name, target)


def _deactivate_ssh_key(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.update_ssh_public_key(client, name, target, "Inactive")


def _delete_ssh_key(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.delete_ssh_public_key(client, name, target)


def _deactivate_service_credential(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.update_service_specific_credential(client, name, target, "Inactive")


def _delete_service_credential(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.delete_service_specific_credential(client, name, target)


def _deactivate_mfa(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.deactivate_mfa_device(client, name, target)


def _delete_virtual_mfa(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.delete_virtual_mfa_device(client, target)


def _delete_user(client: t.Any, name: str, target: t.Any, context: Context, outcome: Outcome) -> None:
    _iam.delete_user(client, name)


# Effects on the observed state (a _lifecycle.Observed): pure, the input is never modified.


def _with_tags(observed: t.Any, tags: dict[str, str]) -> t.Any:
    return observed._replace(tags=tuple(sorted(tags.items())))


def _created(observed: t.Any, target: t.Any) -> t.Any:
    return _with_tags(observed._replace(exists=True), dict(observed.tags, **(target or {})))


def _joined(observed: t.Any, group: str) -> t.Any:
    return observed if group in observed.groups else observed._replace(groups=(*observed.groups, group))


def _left(observed: t.Any, group: str) -> t.Any:
    return observed._replace(groups=tuple(g for g in observed.groups if g != group))


def _attached(observed: t.Any, arn: str) -> t.Any:
    return observed if arn in observed.policies else observed._replace(policies=(*observed.policies, arn))


def _detached(observed: t.Any, arn: str) -> t.Any:
    return observed._replace(policies=tuple(p for p in observed.policies if p != arn))


def _inline_deleted(observed: t.Any, policy_name: str) -> t.Any:
    return observed._replace(inline_policies=tuple(p for p in observed.inline_policies if p != policy_name))


def _key_deactivated(observed: t.Any, key_id: str) -> t.Any:
    return observed._replace(active_keys=tuple(k for k in observed.active_keys if k != key_id))


def _password_deleted(observed: t.Any, target: t.Any) -> t.Any:
    return observed._replace(has_login_profile=False)


def _key_deleted(observed: t.Any, key_id: str) -> t.Any:
    return observed._replace(
        active_keys=tuple(k for k in observed.active_keys if k != key_id),
        inactive_keys=tuple(k for k in observed.inactive_keys if k != key_id),
    )


def _without(pairs: tuple[tuple[str, str], ...], credential_id: str) -> tuple[tuple[str, str], ...]:
    return tuple(p for p in pairs if p[0] != credential_id)


def _inactive_pair(pairs: tuple[tuple[str, str], ...], credential_id: str) -> tuple[tuple[str, str], ...]:
    return tuple((i, "Inactive" if i == credential_id else status) for i, status in pairs)


def _certificate_deactivated(observed: t.Any, target: str) -> t.Any:
    return observed._replace(certificates=_inactive_pair(observed.certificates, target))


def _certificate_deleted(observed: t.Any, target: str) -> t.Any:
    return observed._replace(certificates=_without(observed.certificates, target))


def _ssh_key_deactivated(observed: t.Any, target: str) -> t.Any:
    return observed._replace(ssh_keys=_inactive_pair(observed.ssh_keys, target))


def _ssh_key_deleted(observed: t.Any, target: str) -> t.Any:
    return observed._replace(ssh_keys=_without(observed.ssh_keys, target))


def _service_credential_deactivated(observed: t.Any, target: str) -> t.Any:
    return observed._replace(service_credentials=_inactive_pair(observed.service_credentials, target))


def _service_credential_deleted(observed: t.Any, target: str) -> t.Any:
    return observed._replace(service_credentials=_without(observed.service_credentials, target))


def _mfa_deactivated(observed: t.Any, serial: str) -> t.Any:
    """The device leaves the user; a virtual one stays in the account, unassigned, until it is deleted."""
    virtual = ":mfa/" in serial
    return observed._replace(
        mfa_devices=tuple(d for d in observed.mfa_devices if d != serial),
        unassigned_virtual_mfa=(*observed.unassigned_virtual_mfa, serial)
        if virtual and serial not in observed.unassigned_virtual_mfa
        else observed.unassigned_virtual_mfa,
    )


def _virtual_mfa_deleted(observed: t.Any, serial: str) -> t.Any:
    return observed._replace(unassigned_virtual_mfa=tuple(d for d in observed.unassigned_virtual_mfa if d != serial))


def _user_deleted(observed: t.Any, target: t.Any) -> t.Any:
    return type(observed)(exists=False)


def _has_password(observed: t.Any, target: t.Any) -> t.Any:
    return observed._replace(has_login_profile=True)


def _unchanged(observed: t.Any, target: t.Any) -> t.Any:
    return observed


def _tagged(observed: t.Any, tags: dict[str, str]) -> t.Any:
    return _with_tags(observed, dict(observed.tags, **tags))


def _untagged(observed: t.Any, keys: t.Sequence[str]) -> t.Any:
    return _with_tags(observed, {k: v for k, v in observed.tags if k not in keys})


# Labels.


def _bare(action: str, target: t.Any) -> str:
    return action


def _named(action: str, target: t.Any) -> str:
    return f"{action} {target}"


def _inactive(action: str, target: t.Any) -> str:
    return f"{action} {target} Inactive"


def _keys(action: str, target: t.Any) -> str:
    """The tag keys a step sets (sorted) or removes (as planned); the bare action when there are none."""
    keys = sorted(target) if isinstance(target, dict) else list(target or ())
    return f"{action} {', '.join(keys)}" if keys else action


TABLE: dict[str, Kind] = {
    CREATE_USER: Kind(_create_user, _created, _keys),
    ADD_TO_GROUP: Kind(_add_to_group, _joined, _named),
    REMOVE_FROM_GROUP: Kind(_remove_from_group, _left, _named),
    ATTACH_POLICY: Kind(_attach_policy, _attached, _named),
    DETACH_POLICY: Kind(_detach_policy, _detached, _named),
    DELETE_INLINE_POLICY: Kind(_delete_inline_policy, _inline_deleted, _named),
    DEACTIVATE_ACCESS_KEY: Kind(_deactivate_access_key, _key_deactivated, _inactive),
    CREATE_LOGIN_PROFILE: Kind(_create_login_profile, _has_password, _bare),
    UPDATE_LOGIN_PROFILE: Kind(_update_login_profile, _unchanged, _bare),
    DELETE_LOGIN_PROFILE: Kind(_delete_login_profile, _password_deleted, _bare),
    DELETE_ACCESS_KEY: Kind(_delete_access_key, _key_deleted, _named),
    DEACTIVATE_CERTIFICATE: Kind(_deactivate_certificate, _certificate_deactivated, _inactive),
    DELETE_CERTIFICATE: Kind(_delete_certificate, _certificate_deleted, _named),
    DEACTIVATE_SSH_KEY: Kind(_deactivate_ssh_key, _ssh_key_deactivated, _inactive),
    DELETE_SSH_KEY: Kind(_delete_ssh_key, _ssh_key_deleted, _named),
    DEACTIVATE_SERVICE_CREDENTIAL: Kind(_deactivate_service_credential, _service_credential_deactivated, _inactive),
    DELETE_SERVICE_CREDENTIAL: Kind(_delete_service_credential, _service_credential_deleted, _named),
    DEACTIVATE_MFA: Kind(_deactivate_mfa, _mfa_deactivated, _named),
    DELETE_VIRTUAL_MFA: Kind(_delete_virtual_mfa, _virtual_mfa_deleted, _named),
    DELETE_USER: Kind(_delete_user, _user_deleted, _bare),
    TAG_USER: Kind(_tag_user, _tagged, _keys),
    UNTAG_USER: Kind(_untag_user, _untagged, _keys),
    HANDOVER: Kind(_hand_over, _unchanged, _named),
}


def apply_steps(observed: t.Any, steps: t.Sequence[Step]) -> t.Any:
    """The state the steps lead to (for check mode, diff and the result, without reading IAM again)."""
    for step in steps:
        observed = TABLE[step.action].effect(observed, step.target)
    return _with_tags(observed, dict(observed.tags))


def label(step: Step) -> str:
    return TABLE[step.action].label(step.action, step.target)


def execute(client: t.Any, name: str, steps: t.Sequence[Step], context: Context, done: list[Step]) -> Outcome:
    """Make the steps' calls in order and stop at the first failure (its exception propagates); `done` collects
    the steps that succeeded, so that a caller can tell what a failed run left behind."""
    outcome = Outcome()
    for step in steps:
        TABLE[step.action].call(client, name, step.target, context, outcome)
        done.append(step)
    return outcome
