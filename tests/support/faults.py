# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fault point between the code under test and moto: one decision per API request, two ways in.

The decision (`FaultPoint.decide`) looks at the request's action and parameters and, depending on the mode,

- `off`: passes everything through;
- `crash`: lets the first k write calls (`recorder.is_write`) through, then answers EVERY later request, reads
  included, with one error code (default `InjectedCrash`, which neither botocore nor amazon.aws's AWSRetry
  retries): for the client it is as if the process had been killed after the k-th write. With `answer_lost`,
  the (k+1)-th write still reaches moto and takes effect, and only its answer is the error: a run killed while
  it waited for that answer. `crash_now` fails every request from the moment it is called (a kill between two
  calls, decided by the test rather than by a count);
- `throttle`: answers about `rate` of the requests with `Throttling` (HTTP 400), `InternalFailure` (HTTP 500) or
  `ServiceUnavailable` (HTTP 503). The decision for a request is taken by a `random.Random` seeded with the fixed
  seed and the request itself (action, parameters without the password, and how often that request was seen
  before), so the faults do not depend on how the module's threads interleave;
- `script`: the next `count` calls of an operation fail with a given code (`fail_next`), the others pass.

The ways in:

- **loopback** (`with FaultPoint() as point:`): a WSGI middleware in front of moto's server app, served on a free
  loopback port (`point.url`) in a thread of the test process. A fault is an HTTP error answer in IAM's XML, so
  the client's whole stack (botocore's retry handler included) sees it as it would see AWS's;
- **botocore** (`FaultPoint().attach_botocore(monkeypatch, exempt=[iam])`): a patch of botocore's
  `BaseClient._make_api_call`, for tests that run moto in-process (`mock_aws`). A fault is raised as the
  exception botocore would raise (the client's modelled class for the code, such as `NoSuchEntityException`, or
  `ClientError`), above botocore's own retry handler: only the caller's retries (AWSRetry) see it. The clients in
  `exempt` (a test's own client) are neither faulted nor counted.

The requests let through and the faults raised are recorded (actions and error codes only, never parameters).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import json
import random
import threading
import typing as t
import urllib.parse
import urllib.request

import botocore.client
import botocore.exceptions
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.serving import make_server

from ansible_collections.mfa_onboarding.iam.tests.support.recorder import ApiCall
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import is_write

if t.TYPE_CHECKING:
    import pytest

CRASH_CODE = "InjectedCrash"
# Request parameters left out of the throttle mode's per-request key: a generated password differs per run.
_UNKEYED_PARAMS = ("Password", "NewPassword", "OldPassword")
# HTTP status and IAM error type of the codes the fault point answers with; any other code: 409, Sender.
_STATUS = {
    CRASH_CODE: (400, "Sender"),
    "Throttling": (400, "Sender"),
    "AccessDenied": (403, "Sender"),
    "NoSuchEntity": (404, "Sender"),
    "InternalFailure": (500, "Receiver"),
    "ServiceUnavailable": (503, "Receiver"),
}
_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
_REASONS.update({500: "Internal Server Error", 503: "Service Unavailable"})


class Fault(t.NamedTuple):
    """One injected error answer; with after_serving, the request is served first (it takes effect) and its answer
    is replaced by the error."""

    status: int
    error_type: str
    code: str
    message: str
    after_serving: bool = False

    @classmethod
    def of(cls, code: str, message: str) -> Fault:
        status, error_type = _STATUS.get(code, (409, "Sender"))
        return cls(status, error_type, code, message)

    def body(self) -> bytes:
        """The answer as IAM's Query API gives it."""
        return (
            '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            f"<Error><Type>{self.error_type}</Type><Code>{self.code}</Code><Message>{self.message}</Message></Error>"
            "<RequestId>fault-point</RequestId></ErrorResponse>"
        ).encode()

    def client_error(self, operation: str, client: t.Any = None) -> botocore.exceptions.ClientError:
        """The exception botocore raises for this answer: the client's modelled exception for the code (such as
        `NoSuchEntityException`) when it has one, ClientError otherwise."""
        error = {"Type": self.error_type, "Code": self.code, "Message": self.message}
        response = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": self.status}}
        exceptions = getattr(client, "exceptions", None)
        cls = exceptions.from_code(self.code) if exceptions is not None else botocore.exceptions.ClientError
        return t.cast(botocore.exceptions.ClientError, cls(t.cast(t.Any, response), operation))


# Fault kinds of the throttle mode.
FAULT_KINDS = (
    Fault(400, "Sender", "Throttling", "Rate exceeded"),
    Fault(500, "Receiver", "InternalFailure", "Injected internal failure"),
    Fault(503, "Receiver", "ServiceUnavailable", "Injected: service unavailable"),
)


class _QuietHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's access log on stderr."""

    def log(self, type: str, message: str, *args: t.Any) -> None:
        pass


class FaultPoint:
    """The fault point, in mode `off` at first; see the module docstring for its modes and its two ways in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._app: t.Any = None
        self._server: t.Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.off()
        self.clear()

    # Modes

    def off(self) -> None:
        with self._lock:
            self.mode = "off"
            self.crash_after_writes: int | None = None
            self.crash_code = CRASH_CODE
            self.crashed = False
            self.answer_lost = False
            self._script: dict[str, list[str]] = {}

    def crash_after(self, writes: int, code: str = CRASH_CODE, *, answer_lost: bool = False) -> None:
        """Let `writes` write calls through, then fail every later request with `code`. With `answer_lost`, the
        next write is served all the same (it takes effect) and only its answer is `code`."""
        self.clear()
        with self._lock:
            self.mode = "crash"
            self.crash_after_writes = writes
            self.crash_code = code
            self.crashed = False
            self.answer_lost = answer_lost

    def crash_now(self, code: str = CRASH_CODE) -> None:
        """Fail every request from now on with `code` (the records so far are kept)."""
        with self._lock:
            self.mode = "crash"
            self.crash_after_writes = len(self.writes_served)
            self.crash_code = code
            self.crashed = True
            self.answer_lost = False

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

    def fail_next(self, operation: str, code: str, count: int = 1) -> None:
        """Make the next `count` calls of `operation` fail with `code` (after those already scripted)."""
        with self._lock:
            if self.mode != "script":
                self.mode = "script"
                self._script = {}
            self._script.setdefault(operation, []).extend([code] * count)

    # Records

    def clear(self) -> None:
        with self._lock:
            self.served: list[str] = []  # actions let through, in order
            self.raised: list[tuple[str, str]] = []  # (action, error code) of every fault, in order
            self._seen: collections.Counter[str] = collections.Counter()

    @property
    def writes_served(self) -> list[str]:
        return [action for action in self.served if is_write(action)]

    @property
    def refused(self) -> list[str]:
        """The actions answered with a fault, in order."""
        return [action for action, _code in self.raised]

    @property
    def faults(self) -> collections.Counter[str]:
        """Error code -> how many faults of it were raised."""
        return collections.Counter(code for _action, code in self.raised)

    # The decision

    def decide(self, action: str, params: t.Mapping[str, str]) -> Fault | None:
        """None to let the request through, or the fault to answer it with. Called under the lock, by `admit`;
        `params` are the request's Query API parameters (text values)."""
        if self.mode == "crash":
            limit = t.cast(int, self.crash_after_writes)
            if not self.crashed and is_write(action) and len(self.writes_served) >= limit:
                self.crashed = True
                if self.answer_lost:
                    lost = Fault.of(self.crash_code, "Injected crash: the request took effect, its answer was lost")
                    return lost._replace(after_serving=True)
            if self.crashed:
                return Fault.of(self.crash_code, "Injected crash: no request is served any more")
            return None
        if self.mode == "throttle":
            key = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in _UNKEYED_PARAMS)
            self._seen[key] += 1
            digest = hashlib.sha256(f"{self.seed}|{key}|{self._seen[key]}".encode()).hexdigest()
            rng = random.Random(int(digest[:16], 16))
            if rng.random() < self.rate:
                return rng.choice(FAULT_KINDS)
            return None
        if self.mode == "script":
            codes = self._script.get(action)
            if codes:
                code = codes.pop(0)
                return Fault.of(code, f"injected {code}")
        return None

    def admit(self, action: str, params: t.Mapping[str, str]) -> Fault | None:
        """Decide on one request and record the outcome (a request served before its fault counts as served)."""
        with self._lock:
            fault = self.decide(action, params)
            if fault is None or fault.after_serving:
                self.served.append(action)
            if fault is not None:
                self.raised.append((action, fault.code))
        return fault

    # Way in 1: a WSGI middleware in front of moto's server app, on loopback

    def __enter__(self) -> FaultPoint:
        self._app = DomainDispatcherApplication(create_backend_app)
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

    def __call__(self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> t.Iterable[bytes]:
        params = _query_params(environ)
        action = params.get("Action")
        if action is None:  # moto's own API (reset, data.json): never faulted
            return t.cast("t.Iterable[bytes]", self._app(environ, start_response))
        fault = self.admit(action, params)
        if fault is not None and fault.after_serving:
            _drain(self._app(environ, _discard))  # served: moto made the change; its answer is dropped
        if fault is not None:
            body = fault.body()
            status = f"{fault.status} {_REASONS.get(fault.status, 'Error')}"
            start_response(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
            return [body]
        return t.cast("t.Iterable[bytes]", self._app(environ, start_response))

    # Way in 2: a patch of botocore, for moto in-process

    def wrap(self, inner: ApiCall, exempt: t.Iterable[t.Any] = ()) -> ApiCall:
        """`inner` (botocore's `_make_api_call`, or what patches it already) behind the fault point; the calls of
        the clients in `exempt` go straight through, unrecorded."""
        exempt = list(exempt)

        def faulty(client: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
            if not any(client is other for other in exempt):
                fault = self.admit(operation, _as_query(operation, params))
                if fault is not None and fault.after_serving:
                    with contextlib.suppress(botocore.exceptions.ClientError):  # whatever it said, it is lost
                        inner(client, operation, params)
                if fault is not None:
                    raise fault.client_error(operation, client)
            return inner(client, operation, params)

        return faulty

    def attach_botocore(self, monkeypatch: pytest.MonkeyPatch, exempt: t.Iterable[t.Any] = ()) -> FaultPoint:
        """Put the fault point in front of every botocore client but those in `exempt`, until the test ends."""
        inner = botocore.client.BaseClient._make_api_call
        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", self.wrap(inner, exempt))
        return self


def caught_at(failures: t.Sequence[str], points: int, expected: str) -> str:
    """The line a mutant control prints: where its sweep failed (each failure's label: `k=3`, `refused k=3`, `the
    uninterrupted run`), out of how many crash points, and the text it stopped at (a control's sweep stops at the
    first failure showing it)."""
    if not failures:
        return f"not caught in {points} crash points"
    labels = [failure.split(":")[0].split(" after ")[0] for failure in failures]
    stop = f"the sweep stops at the first failure showing {expected!r}"
    return f"caught at {', '.join(labels)}, of {points} crash points ({stop})"


def _discard(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Callable[[bytes], None]:
    """A WSGI start_response for an answer nobody reads."""
    return lambda data: None


def _drain(response: t.Iterable[bytes]) -> None:
    """Let a WSGI app finish its answer (and close it), and drop it."""
    try:
        for _chunk in response:
            pass
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()


def _query_params(environ: dict[str, t.Any]) -> dict[str, str]:
    """The Query API parameters of a WSGI request (form body or query string); the body is put back for moto."""
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


def _as_query(operation: str, params: t.Mapping[str, t.Any]) -> dict[str, str]:
    """A botocore call's parameters as text, keyed like a Query API request (for the throttle mode's key)."""
    query = {"Action": operation}
    for key, value in params.items():
        query[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return query
