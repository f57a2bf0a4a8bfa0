# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This fragment is private to the collection: it may change at any time. Do not use it from other collections.

from __future__ import annotations


class ModuleDocFragment:
    # What each attribute means. Every module says its own `support` (and `details` where it helps) in an
    # `attributes:` block of its DOCUMENTATION; this fragment adds the descriptions.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # An info module reads and never writes.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: This module only reads; it does the same in check mode.
  diff_mode:
    support: N/A
    details: This module only reads; there is nothing to show a difference of.
  idempotent:
    support: full
    details: This module only reads.
"""

    # Every module of the collection is in the action group `aws`, which extends amazon.aws's.
    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/mfa_onboarding.iam.aws) in C(module_defaults) to set defaults for this module.
      - The group also holds amazon.aws's modules (it extends C(group/amazon.aws.aws)), so one C(module_defaults) entry
        reaches both collections. C(group/amazon.aws.aws) alone does not reach this collection's modules.
    support: full
    membership:
      - mfa_onboarding.iam.aws
"""
