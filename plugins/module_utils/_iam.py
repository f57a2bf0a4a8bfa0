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


# Managed policies


@IAMErrorHandler.common_error_handler("list customer managed policies")
@retry
def list_local_policies(client: t.Any) -> list[dict[str, t.Any]]:
    paginator = client.get_paginator("list_policies")
    return paginator.paginate(Scope="Local").build_full_result()["Policies"]


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
    paginator = client.get_paginator("list_policy_versions")
    return paginator.paginate(PolicyArn=arn).build_full_result()["Versions"]


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
