# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Security invariants 1 and 2 (DESIGN.md section 1), checked over IAM state as plain data.

1. Every user with a console password or an access key (active or not: an inactive key is a credential that one
   call makes usable again) is covered by an MFA guard: member of the onboarding group, or the current-users policy
   attached to the user or to one of its groups (`guarded`).
2. A user without an MFA device holds nothing beyond the guards: no policy attached to it, no inline policy, no
   group but the onboarding group, and that group itself carries only the first-login policy; and no active access
   key (under the official policy a long-term key can register a device without MFA; adoption deactivates them).

This is written independently of the collection's own lifecycle code (plugins/module_utils/_lifecycle.py), from
the design's words, so that a mistake there cannot hide itself here.

`guarded` reads one user: a mapping with `groups` (names), `policies` (ARNs attached to the user) and
`group_policies` (ARNs attached to its groups). `violations` reads a whole account as `iam_state.snapshot`
returns it.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support.iam_state import CURRENT_USERS_ARN
from ansible_collections.mfa_onboarding.iam.tests.support.iam_state import FIRST_LOGIN_ARN
from ansible_collections.mfa_onboarding.iam.tests.support.iam_state import ONBOARDING_GROUP


def guarded(user: t.Mapping[str, t.Any]) -> bool:
    """Covered by an MFA guard: in the onboarding group, or the current-users policy on the user or its groups."""
    return (
        ONBOARDING_GROUP in user["groups"]
        or CURRENT_USERS_ARN in user["policies"]
        or CURRENT_USERS_ARN in user["group_policies"]
    )


def _group_policies(state: t.Mapping[str, t.Any], groups: t.Iterable[str]) -> list[str]:
    return sorted({arn for group in groups for arn in state["groups"][group]["policies"]})


def violations(state: t.Mapping[str, t.Any]) -> list[str]:
    """Every breach of invariants 1 and 2 over a whole account (`iam_state.snapshot`), one message each; [] when
    the account is safe."""
    found = []
    for name, user in sorted(state["users"].items()):
        credentials = [what for what, held in (("console password", user["login_profile"]),
                                               ("access key", user["access_keys"])) if held]  # fmt: skip
        view = dict(user, group_policies=_group_policies(state, user["groups"]))
        if credentials and not guarded(view):
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
        active = user["active_access_keys"]
        if active:
            found.append(f"invariant 2: user {name} has no MFA but {active} active access key{'s' * (active > 1)}")
        if ONBOARDING_GROUP in user["groups"]:
            group = state["groups"][ONBOARDING_GROUP]
            beyond = [p for p in group["policies"] if p != FIRST_LOGIN_ARN] + group["inline_policies"]
            if beyond:
                found.append(f"invariant 2: user {name} has no MFA and {ONBOARDING_GROUP} grants {beyond}")
    return found
