# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A module run in the test process, as ansible would run it: arguments in, one JSON document out.

    result = run_module("mfa_onboarding.iam.iam_onboard_user", {"name": "alice"}, check_mode=True)

The module is named as a task names it (any collection on PYTHONPATH, amazon.aws's too) or given as an imported
module object. Its stdout is captured for the run only, so a test's own output is left alone. Ansible's
module-level warning stores are emptied first (a real module run is a fresh process), and the run happens as in a
module process, with no controller loaded (once a test imported controller code, warn() would otherwise go to the
controller's display instead of the result).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import types
import typing as t

from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args


def module_path(name: str) -> str:
    """The Python module of a module named as a task names it: a.b.c -> ansible_collections.a.b.plugins.modules.c."""
    namespace, collection, module = name.split(".")
    return f"ansible_collections.{namespace}.{collection}.plugins.modules.{module}"


def run_module(
    module: str | types.ModuleType, args: dict[str, t.Any], *, check_mode: bool = False, diff: bool = False
) -> dict[str, t.Any]:
    """The module's result (its exit_json or fail_json document); `failed` agrees with its exit code."""
    if isinstance(module, str):
        module = importlib.import_module(module_path(module))
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()
    out = io.StringIO()
    controller = module_utils_internal.is_controller
    module_utils_internal.is_controller = False
    code: t.Any = None
    try:
        arguments = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(arguments), contextlib.redirect_stdout(out):
            try:
                module.main()
            except SystemExit as exited:
                code = exited.code
    finally:
        module_utils_internal.is_controller = controller
    result = t.cast("dict[str, t.Any]", json.loads(out.getvalue()))
    if bool(result.get("failed")) != bool(code):
        raise AssertionError(f"exit code {code!r} does not match the result {result}")
    return result
