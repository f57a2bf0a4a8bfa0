# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running iam_onboard_user for its users: resolve (read) -> plan (the core) -> execute (the step table), one user
at a time in a small pool of threads. One user's failure never costs the others their results (nor a temporary
password that was already set); the results come back in input order."""

from __future__ import annotations

import concurrent.futures
import datetime
import typing as t

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _handover
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _leaving
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _profiles
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _results
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _steps
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import Account
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import AccountError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import inline_documents
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import observe_user
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import pending_users
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import read_mfa_devices
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import ready_candidates
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import PasswordError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import check as check_password
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import generate as generate_password
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import pending_request
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import ready_request
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import run_profiles

T = t.TypeVar("T")
R = t.TypeVar("R")


class UserFailed(Exception):
    """One user could not be handled; the message names the user and the reason (never a password).

    actions lists the write calls that were made before the failure; stage is the user's stage after them, when
    the user was observed; refused tells a transition the lifecycle does not allow from an error; detached is what
    those calls took away (an inline policy's document included: a rerun cannot report what is already gone).
    """

    def __init__(
        self,
        message: str,
        actions: t.Iterable[str] = (),
        stage: str | None = None,
        refused: bool = False,
        handover: str | None = None,
        detached: dict[str, t.Any] | None = None,
    ):
        super().__init__(message)
        self.actions = list(actions)
        self.stage = stage
        self.refused = refused
        self.handover = handover
        self.detached = detached


class Promotion(t.NamedTuple):
    """What a promotion run grants from: the groups and policies its users and profiles name, as read once before
    the first write, and the operator's profiles with the default one (invariant 8)."""

    reads: lc.GrantReads = lc.GrantReads()
    profiles: t.Mapping[str, _profiles.Profile] = {}
    default: str | None = None


def in_pool(items: t.Sequence[T], work: t.Callable[[T], R], concurrency: int) -> list[R]:
    """work(item) for every item, at most `concurrency` at a time; the results in input order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(items)))) as pool:
        return list(pool.map(work, items))


def promotion_choice(request: dict[str, t.Any], observed: lc.Observed, promotion: Promotion) -> _profiles.Choice:
    """The profile the user is promoted by, from its item, its recorded tag (as read right before the writes) and
    the run's profiles."""
    recorded, problem = _profiles.recorded(dict(observed.tags), lc.PROFILE_TAG)
    if problem and request.get("profile") is None and promotion.profiles:
        return _profiles.Choice(refusal=problem)
    return _profiles.choose(
        request.get("profile"), recorded, promotion.profiles, promotion.default, bool(request.get("found_ready"))
    )


def plan_user(
    request: dict[str, t.Any],
    state: str,
    observed: lc.Observed,
    regime: lc.Regime,
    promotion: Promotion,
    handover: str | None = None,
) -> lc.Plan:
    """The core's plan for one user in the requested state; handover describes where a new temporary password
    goes (None: to the caller). At promotion, the user's grants are its own and its profile's (promotion_choice),
    resolved against what the run read: a user whose own do not resolve, or whose recorded profile selects none
    of the operator's, is refused, and only that user."""
    name = request["name"]
    if state == lc.ONBOARDING:
        return lc.plan_onboarding(
            observed,
            regime,
            request["tags"],
            request["purge_tags"],
            request["reset_password"],
            name=name,
            handover=handover,
            detach=request.get("adopt_detach", True),
            adopt_only=request.get("adopt_only", False),
            profile=request.get("profile"),
        )
    if state in lc.LEAVING_STATES:
        return leaving_plan(request, state, observed, regime)
    choice = promotion_choice(request, observed, promotion)
    profile = promotion.profiles.get(choice.profile or "", _profiles.Profile())
    resolved = lc.resolve_grants(
        [*(request["groups"] or []), *profile.groups],
        [*(request["managed_policies"] or []), *profile.managed_policies],
        promotion.reads,
    )
    plan = lc.plan_promotion(
        name,
        observed,
        regime,
        resolved.groups,
        resolved.policies,
        unresolved=resolved.problems,
        profile_refusal=choice.refusal,
    )
    return plan._replace(notes=[*plan.notes, choice.note]) if choice.note and not plan.refusal else plan


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def unassigned_mfa(request: dict[str, t.Any]) -> bool:
    """expire_unassigned_mfa for the user (a request for an unlisted pending user has none: onboarding only)."""
    return bool(request.get("expire_unassigned_mfa", True))


def leaving_plan(request: dict[str, t.Any], state: str, observed: lc.Observed, regime: lc.Regime) -> lc.Plan:
    """expired, disabled, absent: the planners of _leaving, with the day and, for expiry, the password's age
    (request["password_created"], from the user's record)."""
    now = now_utc()
    today = now.date().isoformat()
    name = request["name"]
    if state == lc.EXPIRED:
        old = _leaving.older_than(request.get("password_created"), request.get("expire_after_days") or 7, now)
        return _leaving.plan_expiry(observed, regime, name, old, today, unassigned_mfa(request))
    if state == lc.DISABLED:
        return _leaving.plan_disable(observed, regime, name, today)
    return _leaving.plan_offboarding(observed, regime)


def handle_user(
    client: t.Any,
    request: dict[str, t.Any],
    state: str,
    account: Account,
    promotion: Promotion,
    check_mode: bool,
    handover: _handover.Handover | None = None,
) -> dict[str, t.Any]:
    """Read, plan and (unless check mode) execute for one user. Returns its result; raises UserFailed."""
    name = request["name"]
    regime = account.regime
    handover = handover or _handover.Handover(_handover.NoChannel())
    channel = handover.channel
    try:
        record, observed = observe_user(client, name, account, state, unassigned_mfa(request))
    except AnsibleIAMError as e:
        # One user's failed read must not cost the others their results (and their temporary passwords).
        raise UserFailed(f"user {name}: {e.message}: {e.exception}") from None
    if record.exists and record.name != name:
        # AWS's GetUser is case-insensitive: the request names a user that IAM holds under another spelling.
        raise UserFailed(lc.spelling_refusal(name, record.name), stage=lc.stage(observed, regime), refused=True)
    warnings = []
    # A note that a killed run staged for a user marked delivered is put in place: a change of its own (changed),
    # which check mode predicts.
    recovered = lc.handover_mark(observed) == lc.DELIVERED and (
        channel.recoverable(name) if check_mode else _recover(channel, name)
    )
    if recovered:
        done = "would be put in place" if check_mode else "is now in place"
        warnings.append(f"user {name}: the note an interrupted run had written {done}")
    via = None if channel.kind == _handover.NONE else channel.describe(name, request.get("email"))
    if state == lc.EXPIRED:
        request = dict(request, password_created=record.password_created)
    plan = plan_user(request, state, observed, regime, promotion, via)
    if plan.refusal:
        raise UserFailed(plan.refusal, stage=lc.stage(observed, regime), refused=True)
    leaving = state in lc.LEAVING_STATES and bool(plan.steps)
    try:
        itself = (leaving or lc.takes_away(plan.steps, regime)) and account.is_caller(record.arn)
    except AnsibleIAMError as e:
        # Asked once per run, from the first user whose plan takes something away: its failure is that user's, and
        # must not cost the other users their results (and their temporary passwords).
        raise UserFailed(
            f"user {name}: {e.message} (to make sure the run does not cut off its own identity): {e.exception}; "
            "nothing was changed for this user",
            stage=lc.stage(observed, regime),
        ) from None
    if itself:
        raise UserFailed(
            f"user {name} is the identity this run uses: deactivating its access keys and removing its grants would "
            "cut the run off halfway; run as another identity, or leave this user out; nothing was changed",
            stage=lc.stage(observed, regime),
            refused=True,
        )
    warnings.extend(f"user {name} {note}" for note in plan.notes)
    if state == lc.ONBOARDING:
        warnings.extend(onboarding_checks(request, record, observed, plan, account))
    deleting = [s.target for s in plan.steps if s.action == _steps.DELETE_INLINE_POLICY]
    try:
        documents = inline_documents(client, name, deleting) if deleting else {}
    except AnsibleIAMError as e:
        raise UserFailed(f"user {name}: {e.message}: {e.exception}; nothing was changed") from None
    after = _steps.apply_steps(observed, plan.steps)
    outcome = _steps.Outcome()
    if not check_mode:
        context = _steps.Context(
            path=request["path"] or "/",
            new_password=lambda: request["password"] or generate_password(account.password_settings),
            password_reset_required=request["password_reset_required"],
            hand_over=lambda password: channel.deliver(
                name, request.get("email"), handover.subject, handover.message(name, account.console_url, password)
            ),
        )
        done: list[_steps.Step] = []

        def taken() -> dict[str, t.Any] | None:
            return _results.detached(done, documents) if state == lc.ONBOARDING else None

        try:
            outcome = _steps.execute(client, name, plan.steps, context, done)
            if _steps.Step(_steps.HANDOVER, via) in plan.steps:
                channel.commit(name)
        except AnsibleIAMError as e:
            reached = _steps.apply_steps(observed, done)
            raise UserFailed(
                f"user {name}: {e.message}: {e.exception}{_pending_note(reached)}",
                map(_steps.label, done),
                lc.stage(reached, regime),
                handover=mark_of(reached),
                detached=taken(),
            ) from None
        except _handover.HandoverError as e:
            reached = _steps.apply_steps(observed, done)
            raise UserFailed(
                f"user {name}: the handover {via} failed: {e}{_pending_note(reached)}",
                map(_steps.label, done),
                lc.stage(reached, regime),
                handover=mark_of(reached),
                detached=taken(),
            ) from None
    issued = lc.sets_password(plan.steps)
    reset = _steps.Step(_steps.UPDATE_LOGIN_PROFILE) in plan.steps
    result = _results.user_result(record, request, account, outcome, after, reset)
    credentials = bool(observed.inline_policies or observed.active_keys)
    diff = {
        "before": _results.diff_view(observed, regime, credentials),
        "after": _results.diff_view(after, regime, credentials),
    }
    if reset:
        diff["after"]["console_password"] = "reset to a new temporary password"
    result.update(
        name=name,
        changed=bool(plan.steps) or recovered,
        stage=lc.stage(after, regime),
        actions=[_steps.label(s) for s in plan.steps],
        handover=mark_of(after),
        password_issued=issued,
        handover_via={"channel": channel.kind, "to": channel.target(name, request.get("email"))}
        if via and issued
        else None,
        detached=_results.detached(plan.steps, documents) if state == lc.ONBOARDING else None,
        console_password=_results.console_password(observed, issued, after),
        warnings=warnings,
        diff=diff,
        failed=False,
        refused=False,
        msg=None,
    )
    result["profile"] = (
        promotion_choice(request, observed, promotion).profile
        if state == lc.PROMOTED
        else dict(after.tags).get(lc.PROFILE_TAG)
    )
    if request.get("listed") is False:
        result["listed"] = False
    if request.get("found_ready"):
        result["found_ready"] = True
    # An explicit password is not echoed: the caller knows it, and Ansible would mask it in the result anyway.
    # With a channel, the password never leaves this process but through the channel (invariant 3).
    if outcome.password is not None and not request["password"] and channel.kind == _handover.NONE:
        result["temporary_password"] = outcome.password
    return result


def read_promotion(
    client: t.Any, account: Account, params: dict[str, t.Any], requests: t.Sequence[dict[str, t.Any]]
) -> Promotion:
    """The groups and policies that the users and every profile name, read once before the first write. A profile
    is the operator's: one that names a group or policy that does not exist (or a policy name that is ambiguous)
    refuses the whole run, whether or not a user of this run would be promoted by it."""
    profiles = run_profiles(params)
    groups, policies = _profiles.all_references(profiles)
    reads = account.read_grants(
        client,
        [*(g for r in requests for g in r["groups"] or []), *groups],
        [*(p for r in requests for p in r["managed_policies"] or []), *policies],
    )
    problems = []
    for name, profile in profiles.items():
        unresolved = lc.resolve_grants(profile.groups, profile.managed_policies, reads).problems
        if unresolved:
            problems.append(f"profiles.{name}: {'; '.join(unresolved)}")
    if problems:
        raise AccountError("; ".join(problems) + "; nothing was changed")
    return Promotion(reads, profiles, params.get("default_profile"))


def found_ready(
    client: t.Any, account: Account, known: t.Sequence[dict[str, t.Any]], concurrency: int
) -> list[dict[str, t.Any]]:
    """Requests for the account's ready users that are not listed (all_ready): in the onboarding group, not
    disabled, with an MFA device (one ListMFADevices per member of the group). Each is checked again right before
    its writes (handle_user), so a user who lost its device since is refused."""
    listed = {r["name"].lower() for r in known}
    candidates = [n for n in ready_candidates(client, account.regime) if n.lower() not in listed]

    def has_device(name: str) -> bool:
        try:
            return bool(read_mfa_devices(client, name))
        except AnsibleIAMError:
            return True  # handled as the user's own: its reads are made again, and their failure fails it alone

    ready = in_pool(candidates, has_device, concurrency) if candidates else []
    return [ready_request(name) for name, yes in zip(candidates, ready) if yes]


def unlisted_pending(
    client: t.Any, account: Account, requests: list[dict[str, t.Any]], handover: _handover.Handover
) -> list[dict[str, t.Any]]:
    """Requests for the account's users that wait for a handover and are not listed (invariant 6: a run killed
    yesterday is repaired by today's run for other users). By mail, an unlisted user has no known address: it
    is left pending, and the run warns naming it."""
    listed = {r["name"].lower() for r in requests}
    found = [pending_request(n) for n in pending_users(client, account.regime) if n.lower() not in listed]
    if handover.kind == _handover.MAIL:
        for request in found:
            account.warnings.append(
                f"user {request['name']} waits for its handover ({lc.HANDOVER_TAG}={lc.PENDING}) but is not "
                "listed, so its e-mail address is unknown; list it with its email to issue it a fresh password"
            )
        return []
    return found


def mark_of(observed: lc.Observed) -> str:
    """The per-user result's handover: the user's mark (pending, delivered), or none."""
    mark = lc.handover_mark(observed)
    return mark if mark in (lc.PENDING, lc.DELIVERED) else _handover.NONE


def _pending_note(reached: lc.Observed) -> str:
    if lc.handover_mark(reached) != lc.PENDING:
        return ""
    return (
        f"; the user stays marked {lc.HANDOVER_TAG}={lc.PENDING}, and the next onboard run with a handover "
        "channel issues it a fresh temporary password"
    )


def _recover(channel: t.Any, name: str) -> bool:
    try:
        return bool(channel.recover(name))
    except _handover.HandoverError as e:
        raise UserFailed(f"user {name}: {e}") from None


def onboarding_checks(
    request: dict[str, t.Any], record: t.Any, observed: lc.Observed, plan: lc.Plan, account: Account
) -> list[str]:
    """Before any write of an onboarding (raise UserFailed): an explicit password must satisfy the account password
    policy when the plan sets it; the user's tags, existing and new, must stay within IAM's limit; a user without
    MFA must be able to replace its temporary password and register MFA at its path under the onboarding group's
    policies. A warning for an explicit password that is not used."""
    name = request["name"]
    current = lc.stage(observed, account.regime)
    tags = lc.tag_limit_problem(observed.tags, plan.steps)
    if tags:
        raise UserFailed(f"tags of user {name}: user {name} {tags}; nothing was changed", stage=current, refused=True)
    if not observed.mfa_devices and current != lc.PROMOTED:
        arn = record.arn if record.exists else account.user_arn(request["path"] or "/", name)
        problem = account.enrollment_problem(arn, name)
        if problem:
            raise UserFailed(f"user {name} {problem}; nothing was changed", stage=current, refused=True)
    warnings = []
    if request["password"] and lc.sets_password(plan.steps):
        try:
            check_password(request["password"], account.password_settings)
        except PasswordError as e:
            raise UserFailed(
                f"user {name}: {e}; nothing was changed", stage=lc.stage(observed, account.regime)
            ) from None
    elif request["password"] and observed.has_login_profile:
        warnings.append(f"user {name} already has a console password; it was not changed")
    return warnings


def path_problems(account: Account, requests: t.Iterable[dict[str, t.Any]]) -> list[str]:
    """For every request that names a path: why a user there could not register MFA under the onboarding group's
    policies (checked before the first write of the run, whatever IAM holds; users at the default path / are
    checked with their own ARN in onboarding_checks)."""
    problems = []
    for request in requests:
        name, path = request["name"], request.get("path")
        if path is not None:
            problem = account.enrollment_problem(account.user_arn(path, name), name)
            if problem:
                problems.append(f"path of user {name}: user {name} {problem}")
    return problems


def run(
    client: t.Any,
    params: dict[str, t.Any],
    requests: list[dict[str, t.Any]],
    check_mode: bool,
    handover: _handover.Handover | None = None,
    listed: t.Sequence[str] = (),
    caller: t.Callable[[], str] | None = None,
    checked: t.Sequence[dict[str, t.Any]] = (),
) -> list[dict]:
    """Per-user results in input order, each with failed and msg. Account-level problems (a guard that does not
    exist or does not guard, a path at which no user can register MFA, a handover channel that cannot work) raise
    _observe.AccountError or _handover.HandoverConfigError before any write. The groups and policies the users
    name are read once, before the first write; a user whose own do not exist (or name a policy ambiguously) is
    refused, the others go on. listed names the users of the whole list this run is a batch of (all_pending leaves
    them to their own batch), checked its requests (the paths of the whole list are checked against the guard's
    policies before the first write; default: requests). caller returns the ARN of the run's own identity, asked
    only when a plan would take something away from a user (a run never adopts itself)."""
    state = params["state"]
    handover = handover or _handover.Handover(_handover.NoChannel())
    account = Account(client, params["onboarding_group"], params["current_users_policy"], state)
    account.caller = caller
    if state == lc.ONBOARDING:
        problems = path_problems(account, checked or requests)
        if problems:
            raise AccountError("; ".join(problems) + "; nothing was changed")
    promotion = Promotion()
    if lc.GRANTS in lc.account_reads(state):
        promotion = read_promotion(client, account, params, requests)
        if params.get("all_ready"):
            known = [*requests, *({"name": n} for n in listed)]
            requests = [*requests, *found_ready(client, account, known, params["concurrency"])]
    if state == lc.ONBOARDING:
        handover.channel.prepare(check_mode)
        if params.get("all_pending") and handover.kind != _handover.NONE:
            known = [*requests, *({"name": n} for n in listed)]
            requests = [*requests, *unlisted_pending(client, account, known, handover)]

    def one(request: dict[str, t.Any]) -> dict[str, t.Any]:
        try:
            return handle_user(client, request, state, account, promotion, check_mode, handover)
        except UserFailed as e:
            failed = _results.failure(request["name"], str(e), e.actions, e.stage, e.refused, e.handover, e.detached)
            if request.get("found_ready"):
                failed.update(listed=False, found_ready=True)
            return failed

    try:
        results = in_pool(requests, one, params["concurrency"])
    finally:
        handover.channel.close()
    if results and account.warnings:
        results[0]["warnings"] = [*account.warnings, *results[0].get("warnings", [])]
    return results
