# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A callback plugin for tests: every event a callback receives (task start with its arguments, each result of a
host or a loop item, diffs, stats) as one JSON line in the file that RECORD_EVENTS_FILE names.

    ANSIBLE_CALLBACK_PLUGINS=<this directory> ANSIBLE_CALLBACKS_ENABLED=record_events RECORD_EVENTS_FILE=... \\
      ansible-playbook ...
"""

from __future__ import annotations

import json
import os
import typing as t

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: record_events
type: aggregate
short_description: Record every callback event as a JSON line (tests only)
description:
  - Writes each event to the file named by the environment variable C(RECORD_EVENTS_FILE).
requirements:
  - enabled in C(ANSIBLE_CALLBACKS_ENABLED)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._path = os.environ["RECORD_EVENTS_FILE"]

    def _write(self, event: str, **data: t.Any) -> None:
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"event": event, **data}, default=str) + "\n")

    def _result(self, event: str, result: t.Any) -> None:
        self._write(event, task=result.task_name, result=result._result)

    def v2_playbook_on_task_start(self, task: t.Any, is_conditional: bool) -> None:
        self._write("task_start", task=task.get_name(), args=task.args)

    def v2_runner_on_ok(self, result: t.Any) -> None:
        self._result("ok", result)

    def v2_runner_on_failed(self, result: t.Any, ignore_errors: bool = False) -> None:
        self._result("failed", result)

    def v2_runner_on_skipped(self, result: t.Any) -> None:
        self._result("skipped", result)

    def v2_runner_item_on_ok(self, result: t.Any) -> None:
        self._result("item_ok", result)

    def v2_runner_item_on_failed(self, result: t.Any) -> None:
        self._result("item_failed", result)

    def v2_on_file_diff(self, result: t.Any) -> None:
        self._result("diff", result)

    def v2_playbook_on_stats(self, stats: t.Any) -> None:
        self._write("stats", custom=stats.custom)
