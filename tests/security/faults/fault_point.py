# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A fault point between the modules and moto: a WSGI middleware around moto's server app, served on loopback in
a thread of the test process.

It reads the IAM Query API `Action` of every request and, depending on its mode,

- `off`: passes everything through to moto;
- `crash`: lets the first k write calls (every action but Get*, List*, Describe*) through, then answers EVERY
  later request, reads included, with HTTP 400 `InjectedCrash`. Neither botocore nor amazon.aws's AWSRetry
  retries that code, so for the client it is as if the process had been killed after the k-th write;
- `throttle`: answers about `rate` of the requests with `Throttling` (HTTP 400), `InternalFailure` (HTTP 500) or
  `ServiceUnavailable` (HTTP 503) instead of passing them to moto. The decision for a request is taken by a
  `random.Random` seeded with the fixed seed and the request itself (action, parameters without the password, and
  how often that request was seen before), so the faults do not depend on how the module's threads interleave.

The requests that reached moto and the faults injected are recorded (actions only, never request bodies).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import random
import threading
import typing as t
import urllib.parse
import urllib.request

from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.serving import make_server

READ_PREFIXES = ("Get", "List", "Describe")
CRASH_CODE = "InjectedCrash"
# Fault kinds of the throttle mode: (HTTP status, error type, error code, message).
FAULT_KINDS = (
    (400, "Sender", "Throttling", "Rate exceeded"),
    (500, "Receiver", "InternalFailure", "Injected internal failure"),
    (503, "Receiver", "ServiceUnavailable", "Injected: service unavailable"),
)
# Request parameters left out of the throttle mode's per-request key: a generated password differs per run.
_UNKEYED_PARAMS = ("Password", "NewPassword", "OldPassword")


def is_write(action: str) -> bool:
    return not action.startswith(READ_PREFIXES)


def error_body(error_type: str, code: str, message: str) -> bytes:
    return (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>{error_type}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>fault-point</RequestId></ErrorResponse>"
    ).encode()


class _QuietHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's access log on stderr."""

    def log(self, type: str, message: str, *args: t.Any) -> None:
        pass


class FaultPoint:
    """`with FaultPoint() as fp:` serves moto on `fp.url` through the fault point (mode `off` at first)."""

    def __init__(self) -> None:
        self._app = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()
        self._server: t.Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.off()
        self.clear()

    # Serving

    def __enter__(self) -> FaultPoint:
        self._server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-point", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def reset_backend(self) -> None:
        """A fresh, empty moto state (moto's own reset API), and the records cleared."""
        self.off()
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        self.clear()

    # Modes

    def off(self) -> None:
        with self._lock:
            self.mode = "off"
            self.crash_after_writes: int | None = None
            self.crashed = False

    def crash_after(self, writes: int) -> None:
        """Let `writes` write calls through, then fail every later request with `InjectedCrash`."""
        self.clear()
        with self._lock:
            self.mode = "crash"
            self.crash_after_writes = writes
            self.crashed = False

    def throttle(self, rate: float, seed: int) -> None:
        """Answer about `rate` of the requests with Throttling, 500 or 503 (seeded); see the module docstring."""
        with self._lock:
            self.mode = "throttle"
            self.rate = rate
            self.seed = seed

    @contextlib.contextmanager
    def throttling(self, rate: float, seed: int) -> t.Iterator[None]:
        self.throttle(rate, seed)
        try:
            yield
        finally:
            self.off()

    def clear(self) -> None:
        with self._lock:
            self.served: list[str] = []  # actions that reached moto, in order
            self.refused: list[str] = []  # actions answered by the fault point, in order
            self.faults: collections.Counter[str] = collections.Counter()  # error code -> count
            self._seen: collections.Counter[str] = collections.Counter()

    @property
    def writes_served(self) -> list[str]:
        return [action for action in self.served if is_write(action)]

    # The middleware

    def __call__(self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> t.Iterable[bytes]:
        params = self._params(environ)
        action = params.get("Action")
        if action is None:  # moto's own API (reset, data.json): never faulted
            return t.cast("t.Iterable[bytes]", self._app(environ, start_response))
        with self._lock:
            fault = self._decide(action, params)
            if fault is None:
                self.served.append(action)
            else:
                self.refused.append(action)
                self.faults[fault[2]] += 1
        if fault is not None:
            status, error_type, code, message = fault
            body = error_body(error_type, code, message)
            reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
            start_response(f"{status} {reason}", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
            return [body]
        return t.cast("t.Iterable[bytes]", self._app(environ, start_response))

    def _decide(self, action: str, params: dict[str, str]) -> tuple[int, str, str, str] | None:
        """Called under the lock: None to pass the request through, or the fault to answer."""
        if self.mode == "crash":
            limit = t.cast(int, self.crash_after_writes)
            if not self.crashed and is_write(action) and len(self.writes_served) >= limit:
                self.crashed = True
            if self.crashed:
                return (400, "Sender", CRASH_CODE, "Injected crash: no request is served any more")
            return None
        if self.mode == "throttle":
            key = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in _UNKEYED_PARAMS)
            self._seen[key] += 1
            digest = hashlib.sha256(f"{self.seed}|{key}|{self._seen[key]}".encode()).hexdigest()
            rng = random.Random(int(digest[:16], 16))
            if rng.random() < self.rate:
                return rng.choice(FAULT_KINDS)
        return None

    @staticmethod
    def _params(environ: dict[str, t.Any]) -> dict[str, str]:
        """The Query API parameters (form body or query string); the body is put back for moto."""
        body = b""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length:
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
        text = body.decode("utf-8", errors="replace") if body else environ.get("QUERY_STRING", "")
        return {k: v[0] for k, v in urllib.parse.parse_qs(text).items()}
