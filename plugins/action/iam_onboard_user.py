# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user on the controller side: a relative message_template is found where ansible.builtin.template
would find it (the role's and the playbook's templates/ directories), then the module runs with its path.
Everything else, the rendering included, happens in the module, so the password never leaves its process."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

MODULE = "mfa_onboarding.iam.iam_onboard_user"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        template = args.get("message_template")
        if template and args.get("handover", "none") != "none":
            try:
                args["message_template"] = self._find_needle("templates", str(template))
            except AnsibleError:
                # A failed result, not an exception: failed_when (the onboard role's) applies to it as to the
                # module's own refusals, and the role reports it with the others.
                result.update(
                    failed=True,
                    changed=False,
                    msg=f"message_template: {template} was not found (a relative path is looked up in the templates/ "
                    "directory of the role and of the playbook); nothing was changed",
                )
                return result
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
