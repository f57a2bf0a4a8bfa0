# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every IAM call the collection makes: one small function each, retried, paginated, with typed errors.

Errors surface as amazon.aws's AnsibleIAMError (message plus the botocore exception), caught once in main().
Nothing here decides anything; the lifecycle logic lives in the pure module_utils.
"""

from __future__ import annotations

import typing as t

from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# IAM is eventually consistent and rate limited: retry throttling (AWSRetry's defaults) and entities that are
# being modified by another request.
retry = AWSRetry.jittered_backoff(catch_extra_error_codes=["EntityTemporarilyUnmodifiable"])
# Right after a create, a read or write naming the new entity may still see NoSuchEntity for a moment.
retry_after_create = AWSRetry.jittered_backoff(
    catch_extra_error_codes=["EntityTemporarilyUnmodifiable", "NoSuchEntity"]
)


def _all(client: t.Any, operation: str, key: str, **params: t.Any) -> list[t.Any]:
    """Every item of a paginated list call; the retried callers below retry the whole listing."""
    return client.get_paginator(operation).paginate(**params).build_full_result()[key]


# Managed policies


@IAMErrorHandler.common_error_handler("list customer managed policies")
@retry
def list_local_policies(client: t.Any) -> list[dict[str, t.Any]]:
    return _all(client, "list_policies", "Policies", Scope="Local")


@IAMErrorHandler.list_error_handler("get policy")
@retry
def get_policy(client: t.Any, arn: str) -> dict[str, t.Any] | None:
    return client.get_policy(PolicyArn=arn)["Policy"]


@IAMErrorHandler.common_error_handler("get policy version")
@retry
def get_policy_document(client: t.Any, arn: str, version_id: str) -> dict[str, t.Any]:
    return client.get_policy_version(PolicyArn=arn, VersionId=version_id)["PolicyVersion"]["Document"]


@IAMErrorHandler.common_error_handler("list policy versions")
@retry
def list_policy_versions(client: t.Any, arn: str) -> list[dict[str, t.Any]]:
    return _all(client, "list_policy_versions", "Versions", PolicyArn=arn)


@IAMErrorHandler.common_error_handler("list entities for policy")
@retry
def list_entities_for_policy(client: t.Any, arn: str) -> dict[str, t.Any]:
    paginator = client.get_paginator("list_entities_for_policy")
    return paginator.paginate(PolicyArn=arn).build_full_result()


@IAMErrorHandler.common_error_handler("create policy")
@retry
def create_policy(client: t.Any, name: str, path: str, document: str, description: str) -> dict[str, t.Any]:
    return client.create_policy(PolicyName=name, Path=path, PolicyDocument=document, Description=description)["Policy"]


@IAMErrorHandler.common_error_handler("create policy version")
@retry_after_create
def create_policy_version(client: t.Any, arn: str, document: str) -> dict[str, t.Any]:
    return client.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)["PolicyVersion"]


@IAMErrorHandler.deletion_error_handler("delete policy version")
@retry
def delete_policy_version(client: t.Any, arn: str, version_id: str) -> bool:
    client.delete_policy_version(PolicyArn=arn, VersionId=version_id)
    return True


@IAMErrorHandler.deletion_error_handler("delete policy")
@retry
def delete_policy(client: t.Any, arn: str) -> bool:
    client.delete_policy(PolicyArn=arn)
    return True


# Account password policy


@IAMErrorHandler.list_error_handler("get account password policy")
@retry
def get_account_password_policy(client: t.Any) -> dict[str, t.Any] | None:
    return client.get_account_password_policy()["PasswordPolicy"]


@IAMErrorHandler.common_error_handler("update account password policy")
@retry
def update_account_password_policy(client: t.Any, request: dict[str, t.Any]) -> None:
    client.update_account_password_policy(**request)


@IAMErrorHandler.deletion_error_handler("delete account password policy")
@retry
def delete_account_password_policy(client: t.Any) -> bool:
    client.delete_account_password_policy()
    return True


# Groups


@IAMErrorHandler.list_error_handler("get group")
@retry
def get_group(client: t.Any, name: str) -> dict[str, t.Any] | None:
    """The group (name, ARN, path) without paging through its members; None when it does not exist."""
    return client.get_group(GroupName=name, MaxItems=1)["Group"]


@IAMErrorHandler.common_error_handler("list attached group policies")
@retry
def list_attached_group_policies(client: t.Any, name: str) -> list[str]:
    return [p["PolicyArn"] for p in _all(client, "list_attached_group_policies", "AttachedPolicies", GroupName=name)]


@IAMErrorHandler.common_error_handler("list group policies")
@retry
def list_group_policies(client: t.Any, name: str) -> list[str]:
    """The names of the group's inline policies."""
    return list(_all(client, "list_group_policies", "PolicyNames", GroupName=name))


@IAMErrorHandler.common_error_handler("get group policy")
@retry
def get_group_policy(client: t.Any, name: str, policy_name: str) -> t.Any:
    """An inline policy's document of the group (boto3 decodes it; a string where it did not)."""
    return client.get_group_policy(GroupName=name, PolicyName=policy_name)["PolicyDocument"]


# Users


@IAMErrorHandler.list_error_handler("get user")
@retry
def get_user(client: t.Any, name: str) -> dict[str, t.Any] | None:
    return client.get_user(UserName=name)["User"]


@IAMErrorHandler.common_error_handler("list groups for user")
@retry
def list_groups_for_user(client: t.Any, name: str) -> list[str]:
    return [g["GroupName"] for g in _all(client, "list_groups_for_user", "Groups", UserName=name)]


@IAMErrorHandler.common_error_handler("list attached user policies")
@retry
def list_attached_user_policies(client: t.Any, name: str) -> list[str]:
    return [p["PolicyArn"] for p in _all(client, "list_attached_user_policies", "AttachedPolicies", UserName=name)]


@IAMErrorHandler.list_error_handler("get login profile")
@retry
def get_login_profile(client: t.Any, name: str) -> dict[str, t.Any] | None:
    return client.get_login_profile(UserName=name)["LoginProfile"]


@IAMErrorHandler.common_error_handler("list MFA devices")
@retry
def list_mfa_devices(client: t.Any, name: str) -> list[dict[str, t.Any]]:
    return _all(client, "list_mfa_devices", "MFADevices", UserName=name)


@IAMErrorHandler.common_error_handler("create user")
@retry
def create_user(client: t.Any, name: str, path: str, tags: list[dict[str, str]]) -> dict[str, t.Any]:
    return client.create_user(UserName=name, Path=path, Tags=tags)["User"]


@IAMErrorHandler.common_error_handler("add user to group")
@retry_after_create
def add_user_to_group(client: t.Any, name: str, group: str) -> None:
    client.add_user_to_group(UserName=name, GroupName=group)


@IAMErrorHandler.common_error_handler("remove user from group")
@retry
def remove_user_from_group(client: t.Any, name: str, group: str) -> None:
    client.remove_user_from_group(UserName=name, GroupName=group)


@IAMErrorHandler.common_error_handler("create login profile")
@retry_after_create
def create_login_profile(client: t.Any, name: str, password: str, reset_required: bool) -> dict[str, t.Any]:
    return client.create_login_profile(UserName=name, Password=password, PasswordResetRequired=reset_required)[
        "LoginProfile"
    ]


@IAMErrorHandler.common_error_handler("update login profile")
@retry
def update_login_profile(client: t.Any, name: str, password: str, reset_required: bool) -> None:
    client.update_login_profile(UserName=name, Password=password, PasswordResetRequired=reset_required)


@IAMErrorHandler.common_error_handler("attach user policy")
@retry_after_create
def attach_user_policy(client: t.Any, name: str, arn: str) -> None:
    client.attach_user_policy(UserName=name, PolicyArn=arn)


@IAMErrorHandler.common_error_handler("get caller identity")
@retry
def caller_arn(sts_client: t.Any) -> str:
    """The ARN of the identity the run's credentials belong to (STS answers it for every principal)."""
    return str(sts_client.get_caller_identity()["Arn"])


@IAMErrorHandler.common_error_handler("detach user policy")
@retry
def detach_user_policy(client: t.Any, name: str, arn: str) -> None:
    client.detach_user_policy(UserName=name, PolicyArn=arn)


@IAMErrorHandler.common_error_handler("get user policy")
@retry
def get_user_policy(client: t.Any, name: str, policy_name: str) -> t.Any:
    """An inline policy's document of the user (boto3 decodes it; a string where it did not)."""
    return client.get_user_policy(UserName=name, PolicyName=policy_name)["PolicyDocument"]


@IAMErrorHandler.common_error_handler("delete user policy")
@retry
def delete_user_policy(client: t.Any, name: str, policy_name: str) -> None:
    client.delete_user_policy(UserName=name, PolicyName=policy_name)


@IAMErrorHandler.common_error_handler("update access key")
@retry
def update_access_key(client: t.Any, name: str, key_id: str, status: str) -> None:
    client.update_access_key(UserName=name, AccessKeyId=key_id, Status=status)


@IAMErrorHandler.common_error_handler("delete login profile")
@retry
def delete_login_profile(client: t.Any, name: str) -> None:
    client.delete_login_profile(UserName=name)


@IAMErrorHandler.common_error_handler("delete access key")
@retry
def delete_access_key(client: t.Any, name: str, key_id: str) -> None:
    client.delete_access_key(UserName=name, AccessKeyId=key_id)


@IAMErrorHandler.common_error_handler("update signing certificate")
@retry
def update_signing_certificate(client: t.Any, name: str, certificate_id: str, status: str) -> None:
    client.update_signing_certificate(UserName=name, CertificateId=certificate_id, Status=status)


@IAMErrorHandler.common_error_handler("delete signing certificate")
@retry
def delete_signing_certificate(client: t.Any, name: str, certificate_id: str) -> None:
    client.delete_signing_certificate(UserName=name, CertificateId=certificate_id)


@IAMErrorHandler.common_error_handler("update SSH public key")
@retry
def update_ssh_public_key(client: t.Any, name: str, key_id: str, status: str) -> None:
    client.update_ssh_public_key(UserName=name, SSHPublicKeyId=key_id, Status=status)


@IAMErrorHandler.common_error_handler("delete SSH public key")
@retry
def delete_ssh_public_key(client: t.Any, name: str, key_id: str) -> None:
    client.delete_ssh_public_key(UserName=name, SSHPublicKeyId=key_id)


@IAMErrorHandler.common_error_handler("update service-specific credential")
@retry
def update_service_specific_credential(client: t.Any, name: str, credential_id: str, status: str) -> None:
    client.update_service_specific_credential(UserName=name, ServiceSpecificCredentialId=credential_id, Status=status)


@IAMErrorHandler.common_error_handler("delete service-specific credential")
@retry
def delete_service_specific_credential(client: t.Any, name: str, credential_id: str) -> None:
    client.delete_service_specific_credential(UserName=name, ServiceSpecificCredentialId=credential_id)


@IAMErrorHandler.common_error_handler("deactivate MFA device")
@retry
def deactivate_mfa_device(client: t.Any, name: str, serial_number: str) -> None:
    client.deactivate_mfa_device(UserName=name, SerialNumber=serial_number)


@IAMErrorHandler.common_error_handler("delete virtual MFA device")
@retry
def delete_virtual_mfa_device(client: t.Any, serial_number: str) -> None:
    client.delete_virtual_mfa_device(SerialNumber=serial_number)


@IAMErrorHandler.common_error_handler("delete user")
@retry
def delete_user(client: t.Any, name: str) -> None:
    client.delete_user(UserName=name)


@IAMErrorHandler.common_error_handler("tag user")
@retry
def tag_user(client: t.Any, name: str, tags: list[dict[str, str]]) -> None:
    client.tag_user(UserName=name, Tags=tags)


@IAMErrorHandler.common_error_handler("untag user")
@retry
def untag_user(client: t.Any, name: str, keys: list[str]) -> None:
    client.untag_user(UserName=name, TagKeys=keys)


@IAMErrorHandler.common_error_handler("list user policies")
@retry
def list_user_policies(client: t.Any, name: str) -> list[str]:
    """The names of the user's inline policies."""
    return list(_all(client, "list_user_policies", "PolicyNames", UserName=name))


@IAMErrorHandler.common_error_handler("list access keys")
@retry
def list_access_keys(client: t.Any, name: str) -> list[dict[str, t.Any]]:
    return _all(client, "list_access_keys", "AccessKeyMetadata", UserName=name)


@IAMErrorHandler.common_error_handler("list signing certificates")
@retry
def list_signing_certificates(client: t.Any, name: str) -> list[dict[str, t.Any]]:
    return _all(client, "list_signing_certificates", "Certificates", UserName=name)


@IAMErrorHandler.common_error_handler("list SSH public keys")
@retry
def list_ssh_public_keys(client: t.Any, name: str) -> list[dict[str, t.Any]]:
    return _all(client, "list_ssh_public_keys", "SSHPublicKeys", UserName=name)


@IAMErrorHandler.common_error_handler("list service-specific credentials")
@retry
def list_service_specific_credentials(client: t.Any, name: str) -> list[dict[str, t.Any]]:
    """Not paginated by IAM: one call returns them all."""
    return list(client.list_service_specific_credentials(UserName=name).get("ServiceSpecificCredentials", []))


@IAMErrorHandler.common_error_handler("get access key last used")
@retry
def get_access_key_last_used(client: t.Any, key_id: str) -> t.Any:
    """When the key was last used (None: never)."""
    return client.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"].get("LastUsedDate")


# Account-wide reads (iam_onboard_user_info): a few calls for the whole account, whatever its number of users.

# IAM's largest page (MaxItems may be 1 to 1000): the account-wide lists cost one call per 1000 items.
MAX_PAGE = 1000


def _merged(client: t.Any, operation: str, **params: t.Any) -> dict[str, t.Any]:
    """Every page of a paginated call in the largest pages IAM serves, each result key concatenated."""
    pages = client.get_paginator(operation).paginate(PaginationConfig={"PageSize": MAX_PAGE}, **params)
    return pages.build_full_result()


@IAMErrorHandler.common_error_handler("get account authorization details")
@retry
def get_account_authorization_details(client: t.Any, filters: t.Sequence[str]) -> dict[str, list[t.Any]]:
    """Users (with groups, attached and inline policies, tags), groups (with their policies), roles and managed
    policies (with every version's document), as far as `filters` (User, Group, Role, LocalManagedPolicy,
    AWSManagedPolicy) ask for them."""
    result = _merged(client, "get_account_authorization_details", Filter=list(filters))
    return {key: result.get(key, []) for key in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")}


@IAMErrorHandler.common_error_handler("list users")
@retry
def list_users(client: t.Any) -> list[dict[str, t.Any]]:
    """Every user, with PasswordLastUsed (which GetAccountAuthorizationDetails does not return)."""
    return list(_merged(client, "list_users").get("Users", []))


@IAMErrorHandler.common_error_handler("list virtual MFA devices")
@retry
def list_virtual_mfa_devices(client: t.Any, assignment_status: str = "Any") -> list[dict[str, t.Any]]:
    return list(
        _merged(client, "list_virtual_mfa_devices", AssignmentStatus=assignment_status).get("VirtualMFADevices", [])
    )


@IAMErrorHandler.common_error_handler("generate credential report")
@retry
def generate_credential_report(client: t.Any) -> str:
    """Asks IAM for a credential report; returns its state (STARTED, INPROGRESS or COMPLETE). IAM generates a new
    one at most every four hours and otherwise answers COMPLETE for the one it has."""
    return str(client.generate_credential_report()["State"])


@IAMErrorHandler.common_error_handler("get credential report")
@retry
def get_credential_report(client: t.Any) -> dict[str, t.Any]:
    """The report as IAM holds it: Content (CSV bytes) and GeneratedTime."""
    report = client.get_credential_report()
    return {"Content": report["Content"], "GeneratedTime": report.get("GeneratedTime")}
