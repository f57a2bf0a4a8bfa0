# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Handing a temporary password over inside the module run (DESIGN section 4, invariants 3 and 6): the message
rendered from the operator's template, then a note in a directory or one mail, from the generator to the channel
in one process.

Everything that can be checked is checked before the first write (`prepare`): the template (rendered for every
user with a dummy password), the directory (never a symbolic link, never readable or writable by others), the
addresses (one address, no header break, a domain), the SMTP server (TLS verified, login accepted). A channel
error during the run is a HandoverError for that user only; its message never holds a password.
"""

from __future__ import annotations

import datetime
import email.message
import email.utils
import os
import re
import smtplib
import socket
import ssl
import stat
import tempfile
import threading
import typing as t

try:
    from jinja2 import StrictUndefined
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment
except ImportError:  # pragma: no cover - jinja2 comes with ansible-core on the control node
    HAS_JINJA2 = False
else:
    HAS_JINJA2 = True

NONE = "none"
FILE = "file"
MAIL = "mail"
CHANNELS = (NONE, FILE, MAIL)

# The per-user result's `handover` (the mark, tag mfa-onboarding:handover).
PENDING = "pending"
DELIVERED = "delivered"

DEFAULT_SUBJECT = "Your AWS account is ready"
MAIL_TIMEOUT = 30.0

# Rendered into every message before any write: a template that does not show the password is refused. It
# satisfies no password policy on purpose (it is never set anywhere).
DUMMY_PASSWORD = "dummy-password-for-the-trial-render"  # nosec - not a credential

DEFAULT_TEMPLATE = """\
Hello {{ item.name }},

an AWS account has been created for you.

  Sign-in URL:         {{ item.console_url }}
  User name:           {{ item.name }}
  Temporary password:  {{ item.temporary_password }}

Until you have done the steps below, this account can do nothing else.

1. Sign in at the URL above with the user name and the temporary password.
2. Choose a new password when the console asks for it.
3. Register an MFA device: open "Security credentials" (menu under your user name, top right), choose
   "Assign MFA device", and follow the steps (an authenticator app is fine).
4. Tell your administrator that you are done, so that your account gets its permissions.

This password works only once: keep this message to yourself, and delete it once you have signed in.
"""

# One address and nothing else: a dot-atom local part, a domain of at least two labels. No display name, no
# comment, no second recipient, no white space, so no header break either.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})+")
MAX_ADDRESS = 254


class HandoverConfigError(ValueError):
    """The handover cannot work as configured: refused before any write. The message names the option."""


class HandoverError(Exception):
    """A handover failed for one user (the note could not be written, the mail was not accepted)."""


def address_problem(address: t.Any) -> str | None:
    """Why a value is not exactly one deliverable address, or None."""
    if not isinstance(address, str) or not address:
        return "is empty"
    if any(c in address for c in "\r\n"):
        return "holds a line break (a header injection)"
    if any(c in address for c in ",;"):
        return "names more than one recipient"
    if len(address) > MAX_ADDRESS:
        return f"is longer than {MAX_ADDRESS} characters"
    if "@" not in address:
        return "has no domain (expected local-part@domain)"
    if _ADDRESS.fullmatch(address) is None:
        return "is not a single plain address local-part@domain.tld (no name, comment, space or second address)"
    return None


def compile_template(source: str, option: str = "message_template") -> t.Any:
    """The operator's template, compiled in a sandbox where an undefined name is an error, not an empty string."""
    if not HAS_JINJA2:
        raise HandoverConfigError(f"{option}: rendering the message needs the Python package jinja2")
    environment = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    try:
        return environment.from_string(source)
    except TemplateError as e:
        raise HandoverConfigError(f"{option}: the template does not compile: {e}") from None


def render(template: t.Any, name: str, console_url: str, password: str) -> str:
    """The message for one user. The template sees item.name, item.console_url and item.temporary_password."""
    item = {"name": name, "console_url": console_url, "temporary_password": password}
    return str(template.render(item=item))


def trial_render(template: t.Any, name: str, console_url: str, option: str = "message_template") -> str:
    """Render with the dummy password; raises HandoverConfigError if the template fails or hides the password."""
    try:
        text = render(template, name, console_url, DUMMY_PASSWORD)
    except TemplateError as e:
        raise HandoverConfigError(f"{option}: rendering the message for user {name} fails: {e}") from None
    except Exception as e:  # a filter or test of the template raised: the run must not start
        raise HandoverConfigError(
            f"{option}: rendering the message for user {name} fails: {type(e).__name__}: {e}"
        ) from None
    if DUMMY_PASSWORD not in text:
        raise HandoverConfigError(
            f"{option}: the message for user {name} does not show the temporary password as it is "
            "({{ item.temporary_password }}); its owner could not sign in"
        )
    return text


# File


def directory_problem(path: str) -> str | None:
    """Why a handover directory must not be used, or None (also when it does not exist yet)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"cannot be read: {e.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link; name the real directory, which only its owner may use"
    if not stat.S_ISDIR(info.st_mode):
        return "exists and is not a directory"
    if info.st_mode & 0o077:
        return (
            f"has mode {stat.S_IMODE(info.st_mode):04o}: group or others can use it; the notes hold passwords, so it "
            "must be 0700 (it is not changed here)"
        )
    if info.st_uid != os.geteuid():
        return f"belongs to uid {info.st_uid}, not to the user running the module ({os.geteuid()})"
    return None


class FileChannel:
    """One note per user, <directory>/<name>.txt, mode 0600.

    A note is put in place in two phases, so that a run killed at any point never loses a delivered password and
    never makes one look delivered: `deliver` writes the complete note beside its place (.<name>.txt.new, written
    to a temporary file, synced, renamed); once the user's mark says delivered, `commit` renames it into place,
    keeping a replaced note as a backup (<name>.txt.<timestamp>~). A note staged by a run killed after the mark
    was set is put in place by the next run (`recover`); one staged for a user still pending is replaced when it
    gets its fresh password."""

    kind = FILE

    def __init__(self, directory: str) -> None:
        self.directory = os.path.abspath(directory)

    def prepare(self, check_mode: bool) -> None:
        problem = directory_problem(self.directory)
        if problem:
            raise HandoverConfigError(f"handover_dir: {self.directory} {problem}")
        if os.path.lexists(self.directory):
            return
        parent = os.path.dirname(self.directory)
        if not os.path.isdir(parent):
            raise HandoverConfigError(f"handover_dir: the parent directory {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise HandoverConfigError(f"handover_dir: {self.directory} cannot be created in {parent}")
        if not check_mode:
            os.mkdir(self.directory, 0o700)
            os.chmod(self.directory, 0o700)  # the umask may have taken bits away; never adds any for others

    def target(self, name: str, address: str | None = None) -> str:
        return os.path.join(self.directory, f"{name}.txt")

    def staged(self, name: str) -> str:
        return os.path.join(self.directory, f".{name}.txt.new")

    def describe(self, name: str, address: str | None = None) -> str:
        return f"by file to {self.target(name)}"

    def deliver(self, name: str, address: str | None, subject: str, text: str) -> None:
        problem = directory_problem(self.directory)
        if problem:
            raise HandoverError(f"the handover directory {self.directory} {problem}")
        try:
            fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
        except OSError as e:
            raise HandoverError(f"cannot write a note into {self.directory}: {e.strerror}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.staged(name))
        except OSError as e:
            if os.path.lexists(temporary):
                os.unlink(temporary)
            raise HandoverError(f"cannot write the note {self.target(name)}: {e.strerror}") from None
        _sync_directory(self.directory)

    def commit(self, name: str) -> bool:
        """Put the staged note in place (backing up the one it replaces); False when none is staged."""
        staged, path = self.staged(name), self.target(name)
        if not os.path.lexists(staged):
            return False
        try:
            if os.path.lexists(path):
                stamp = datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S.%f")
                os.link(path, f"{path}.{stamp}~", follow_symlinks=False)
            os.replace(staged, path)
        except OSError as e:
            raise HandoverError(
                f"the note {path} was written but could not be put in place ({e.strerror}); the next run does it"
            ) from None
        _sync_directory(self.directory)
        return True

    def _temporaries(self, name: str) -> list[str]:
        """Partial notes of this user that a killed run left (tempfile's names: .<name>.<8 characters>.tmp); the
        pattern is exact, so that user `a` never takes user `a.b`'s."""
        pattern = re.compile(rf"\.{re.escape(name)}\.[A-Za-z0-9_]{{8}}\.tmp")
        try:
            entries = os.listdir(self.directory)
        except OSError:
            return []
        return [os.path.join(self.directory, e) for e in entries if pattern.fullmatch(e)]

    def recover(self, name: str) -> bool:
        """For a user marked delivered: put in place a note that a killed run staged, and remove the partial notes
        it left (they hold a password that no longer works); True when there was anything to do."""
        leftovers = self._temporaries(name)
        for path in leftovers:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                raise HandoverError(f"cannot remove the partial note {path}: {e.strerror}") from None
        return self.commit(name) or bool(leftovers)

    def recoverable(self, name: str) -> bool:
        """Whether `recover` would do anything (for check mode)."""
        return os.path.lexists(self.staged(name)) or bool(self._temporaries(name))

    def close(self) -> None:
        """Nothing to close: a note is complete once it is renamed into place."""


def _sync_directory(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# Mail


class MailSettings(t.NamedTuple):
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    plaintext: bool = False
    ca_file: str | None = None
    subject: str = DEFAULT_SUBJECT
    timeout: float = MAIL_TIMEOUT


class MailChannel:
    """One message per user to exactly one address, over one SMTP session per worker thread. The server's
    certificate is verified against the system store, or against ca_file alone when it is given; plain text only
    when the operator asks for it by name."""

    kind = MAIL

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._sessions: list[smtplib.SMTP] = []
        self._spare: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    @property
    def security(self) -> str:
        if self.settings.plaintext:
            return "plain text, no TLS"
        return "STARTTLS" if self.settings.starttls else "implicit TLS"

    def _context(self) -> ssl.SSLContext:
        ca_file = self.settings.ca_file
        if ca_file and not os.path.isfile(ca_file):
            raise HandoverConfigError(f"mail_ca_file: {ca_file} is not a file")
        try:
            return ssl.create_default_context(cafile=ca_file or None)
        except (ssl.SSLError, OSError) as e:
            raise HandoverConfigError(f"mail_ca_file: {ca_file} holds no usable certificate: {e}") from None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"the SMTP server {s.host}:{s.port} ({self.security})"
        implicit = not s.plaintext and not s.starttls
        context = None if s.plaintext else self._context()
        try:
            # Constructed with the host: smtplib checks the certificate against the name given here.
            if implicit:
                session = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                session = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                if not s.plaintext and not implicit:
                    session.ehlo()
                    if not session.has_extn("starttls"):
                        raise HandoverConfigError(f"{where} does not offer STARTTLS; nothing is sent in plain text")
                    session.starttls(context=context)
                    session.ehlo()
                if s.username:
                    session.login(s.username, s.password or "")
            except BaseException:
                session.close()  # a session that cannot be used is not left to the garbage collector
                raise
        except ssl.SSLCertVerificationError as e:
            if s.ca_file:
                trust = f"by mail_ca_file {s.ca_file} ({e.verify_message})"
            else:
                trust = f"by the system's trust store ({e.verify_message}); give mail_ca_file for a private CA"
            raise HandoverConfigError(f"{where}: its certificate is not trusted {trust}") from None
        except smtplib.SMTPAuthenticationError as e:
            raise HandoverConfigError(f"{where} refused the login of {s.username}: {e.smtp_code}") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError, socket.timeout) as e:
            raise HandoverConfigError(f"{where} cannot be used: {type(e).__name__}: {e}") from None
        return session

    def prepare(self, check_mode: bool) -> None:
        """Open one session (certificate, login) before any write; the first worker uses it."""
        problem = address_problem(self.settings.sender)
        if problem:
            raise HandoverConfigError(f"mail_from: {self.settings.sender!r} {problem}")
        session = self._connect()
        with self._lock:
            self._sessions.append(session)
            self._spare.append(session)

    def _session(self) -> smtplib.SMTP:
        """This thread's session: the spare one prepare() opened, or a new one."""
        session = getattr(self._local, "session", None)
        if session is not None:
            return session
        with self._lock:
            session = self._spare.pop() if self._spare else None
        if session is None:
            try:
                session = self._connect()
            except HandoverConfigError as e:
                raise HandoverError(str(e)) from None
            with self._lock:
                self._sessions.append(session)
        self._local.session = session
        return session

    def target(self, name: str, address: str | None = None) -> str:
        return str(address)

    def describe(self, name: str, address: str | None = None) -> str:
        return f"by mail to {address}"

    def deliver(self, name: str, address: str | None, subject: str, text: str) -> None:
        problem = address_problem(address)
        if problem:  # checked before any write already; never send to what was not validated
            raise HandoverError(f"email {address!r} {problem}")
        message = email.message.EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = address
        message["Subject"] = subject
        message["Date"] = email.utils.formatdate(localtime=False)
        message["Message-ID"] = email.utils.make_msgid(domain=self.settings.sender.rsplit("@", 1)[-1])
        message.set_content(text)
        session = self._session()
        try:
            refused = session.send_message(message, from_addr=self.settings.sender, to_addrs=[str(address)])
        except smtplib.SMTPRecipientsRefused as e:
            raise HandoverError(f"the SMTP server refused the recipient {address}: {_codes(e.recipients)}") from None
        except (smtplib.SMTPException, OSError) as e:
            # The session may be broken: the next user of this thread opens a new one.
            self._local.session = None
            raise HandoverError(f"the mail to {address} was not accepted: {type(e).__name__}: {e}") from None
        if refused:
            raise HandoverError(f"the SMTP server refused the recipient {address}: {_codes(refused)}")

    def commit(self, name: str) -> bool:
        return False

    def recover(self, name: str) -> bool:
        return False

    def recoverable(self, name: str) -> bool:
        return False

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            try:
                session.quit()
            except (smtplib.SMTPException, OSError):
                session.close()


def _codes(recipients: dict[str, t.Any]) -> str:
    return ", ".join(f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
                     for code, reply in recipients.values())  # fmt: skip


class NoChannel:
    """handover: none: the module returns the password to its caller."""

    kind = NONE

    def prepare(self, check_mode: bool) -> None:
        return None

    def target(self, name: str, address: str | None = None) -> None:
        return None

    def describe(self, name: str, address: str | None = None) -> str:
        return "returned to the caller in temporary_password"

    def deliver(self, name: str, address: str | None, subject: str, text: str) -> None:
        raise AssertionError("handover none delivers nothing")  # pragma: no cover - never planned

    def commit(self, name: str) -> bool:
        return False

    def recover(self, name: str) -> bool:
        return False

    def recoverable(self, name: str) -> bool:
        return False

    def close(self) -> None:
        return None


class Handover(t.NamedTuple):
    """The run's channel, the compiled template and the subject."""

    channel: t.Any
    template: t.Any = None
    subject: str = DEFAULT_SUBJECT

    @property
    def kind(self) -> str:
        return str(self.channel.kind)

    def message(self, name: str, console_url: str, password: str) -> str:
        try:
            return render(self.template, name, console_url, password)
        except Exception as e:  # the trial render passed; a per-user value may still break it
            raise HandoverError(f"rendering the message failed: {type(e).__name__}") from None


def from_params(params: dict[str, t.Any]) -> Handover:
    """The Handover the module's parameters ask for (no I/O yet; see prepare)."""
    kind = params.get("handover") or NONE
    if kind == NONE:
        return Handover(NoChannel())
    source = DEFAULT_TEMPLATE
    path = params.get("message_template")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
        except OSError as e:
            raise HandoverConfigError(f"message_template: {path} cannot be read: {e.strerror}") from None
        except UnicodeDecodeError:
            raise HandoverConfigError(f"message_template: {path} is not UTF-8 text") from None
    template = compile_template(source)
    subject = params.get("mail_subject") or DEFAULT_SUBJECT
    if any(c in subject for c in "\r\n"):
        raise HandoverConfigError("mail_subject: holds a line break (a header injection)")
    if kind == FILE:
        if not params.get("handover_dir"):
            raise HandoverConfigError("handover_dir: handover is file, so handover_dir must name a directory")
        return Handover(FileChannel(params["handover_dir"]), template, subject)
    if not params.get("mail_from"):
        raise HandoverConfigError("mail_from: handover is mail, so mail_from must name the sender")
    settings = MailSettings(
        host=params.get("mail_host") or "localhost",
        port=int(params.get("mail_port") or 587),
        sender=params["mail_from"],
        username=params.get("mail_username") or None,
        password=params.get("mail_password") or None,
        starttls=params.get("mail_starttls", True) is not False,
        plaintext=bool(params.get("mail_plaintext")),
        ca_file=params.get("mail_ca_file") or None,
        subject=subject,
    )
    return Handover(MailChannel(settings), template, subject)


# The trial render runs before the account is read: a console URL of the right shape stands in for the real one.
TRIAL_CONSOLE_URL = "https://123456789012.signin.aws.amazon.com/console"


def check_users(
    handover: Handover, users: t.Sequence[tuple[str, str | None]], console_url: str = TRIAL_CONSOLE_URL
) -> None:
    """Before any call: every user's address (mail) and the message for every user (trial render)."""
    if handover.kind == NONE:
        return
    problems = []
    for name, address in users:
        if handover.kind == MAIL:
            if address is None:
                problems.append(f"user {name} has no email, and mail delivery needs one per user")
                continue
            problem = address_problem(address)
            if problem:
                problems.append(f"email of user {name} ({address!r}) {problem}")
    if problems:
        raise HandoverConfigError("; ".join(problems) + "; nothing was changed")
    for name, _address in users:
        trial_render(handover.template, name, console_url)
