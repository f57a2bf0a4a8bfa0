# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A moto server in this process (a thread on loopback), for runs that need time to pass in the stand-in.

    with InProcessMotoServer() as server:          # the interface of moto_server.MotoServer
        ...onboard carol through ansible-playbook (a subprocess, talking to server.url)...
        server.age_user("carol", days=8)           # carol and her console password are now 8 days older

moto dates a user's login profile by the user's creation date (`GetLoginProfile`'s `CreateDate`, see
ENVIRONMENT.md), and no API call can change it. An expiry that needs a temporary password older than
`expire_after_days` can therefore only be shown by moving that date in moto's backend, which is only reachable from
the process that serves the requests. This server is that process's thread: the playbooks and AWX jobs still talk
to it over HTTP like to any moto server, and `age_user` moves the one date the module reads. Nothing else about
the user changes: on AWS the days simply pass.

moto's backends are global to the process: one such server at a time, and not beside an in-process `mock_aws`.
It answers what moto lacks as `moto_patched` does. The request recording (on unless `record=False`) goes to a
private temporary file, as with `MotoServer`, and is read the same way (`actions`).
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

ACCOUNT_ID = "123456789012"  # moto's default account


class InProcessMotoServer(MotoServer):
    """`MotoServer`, served by a thread of this process, plus `age_user`."""

    def __init__(self, extra_env: dict[str, str] | None = None, *, record: bool = True) -> None:
        super().__init__(extra_env, record=record)
        self._threaded: t.Any = None
        self._werkzeug_level = logging.NOTSET
        self._saved_env: dict[str, str | None] = {}

    @property
    def pid(self) -> int | None:
        return os.getpid() if self._threaded is not None else None

    def start(self, *, detach: bool = False) -> None:
        if detach:
            raise ValueError("an in-process moto server cannot outlive this process")
        # moto reads MOTO_IAM_LOAD_MANAGED_POLICIES (extra_env) when its IAM backend is built, at the first request.
        for key, value in self._extra_env.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        moto_patched.apply()
        from moto.moto_api import recorder
        from moto.server import ThreadedMotoServer

        # moto's recorder took its file from MOTO_RECORDER_FILEPATH when moto was imported (moto_patched imports
        # it): point it at this server's private file (moto 5.2.5 keeps the path in Recorder._location).
        recorder._location = self._recording
        self._reset_backends()
        (recorder.start_recording if self.record else recorder.stop_recording)()
        # werkzeug logs every request to stderr; a moto server's output is its log, this one's would be the caller's.
        self._werkzeug_level = logging.getLogger("werkzeug").level
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._threaded = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._threaded.start()
        if self.record:
            self.reset_recording()

    def stop(self) -> None:
        if self._threaded is not None:
            self._threaded.stop()
            self._threaded = None
            from moto.moto_api import recorder

            recorder.stop_recording()
            self._reset_backends()
            logging.getLogger("werkzeug").setLevel(self._werkzeug_level)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}
        shutil.rmtree(self._dir, ignore_errors=True)

    def log(self) -> str:
        return ""

    @staticmethod
    def _reset_backends() -> None:
        """Forget every resource of the process's moto, as mock_aws does (a server starts and stops empty)."""
        from moto.core.base_backend import BackendDict

        BackendDict.reset()

    def age_user(self, name: str, days: float) -> datetime.datetime:
        """Move user `name`'s creation date, which moto also gives as its login profile's, `days` into the past;
        returns the new date. Raises KeyError when moto holds no such user."""
        from moto.iam.models import iam_backends

        backend = iam_backends[ACCOUNT_ID]["global"]
        user = backend.users[name]
        user.create_date = user.create_date - datetime.timedelta(days=days)
        return t.cast("datetime.datetime", user.create_date)
