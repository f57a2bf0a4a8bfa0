# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Age a user in moto, as time would: its creation date, which moto also answers as its login profile's CreateDate
(moto keeps no date of its own for the password), moved back by some days.

The expire job compares IAM's dates with the control node's clock, and a test cannot wait a week. In-process, the
module's clock can be moved (_run.now_utc); a playbook run reaches a moto server in another process, so the server
is given a control route beside moto's own (/moto-api/reset):

    POST /moto-api/mfa-onboarding/age-user  {"user": "una", "days": 8}   (optional "account", default moto's)

`apply()` adds the route (moto_patched's servers call it); `age_user(endpoint, name, days)` calls it; `age_in_process`
does the same to moto's in-process backend.
"""

from __future__ import annotations

import datetime
import json
import typing as t
import urllib.request

ROUTE = "/moto-api/mfa-onboarding/age-user"


def age_in_process(name: str, days: float, account: str | None = None) -> str:
    """Move the user's creation date back by `days`; returns the new date (ISO 8601). KeyError: no such user."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    users = iam_backends[account or DEFAULT_ACCOUNT_ID]["global"].users
    matches = [u for key, u in users.items() if key.lower() == name.lower()]
    if not matches:
        raise KeyError(name)
    user = matches[0]
    user.create_date = user.create_date - datetime.timedelta(days=days)
    return user.create_date.isoformat()


def _route(request: t.Any, full_url: str, headers: t.Any) -> tuple[int, dict[str, str], str]:
    if request.method != "POST":
        return 400, {}, json.dumps({"Error": "POST {user, days} to age a user"})
    body = json.loads(request.get_data() or b"{}")
    try:
        created = age_in_process(str(body["user"]), float(body["days"]), body.get("account"))
    except KeyError as e:
        return 404, {}, json.dumps({"Error": f"no such user or field: {e}"})
    return 200, {}, json.dumps({"user": body["user"], "create_date": created})


def apply() -> None:
    """Add the route to moto's API (before the server's first request builds its URL map)."""
    from moto.moto_api._internal import urls

    urls.url_paths.setdefault("{0}" + ROUTE, _route)


def age_user(endpoint: str, name: str, days: float) -> str:
    """Age a user of the moto server at endpoint (http://127.0.0.1:PORT); returns its new creation date."""
    data = json.dumps({"user": name, "days": days}).encode()
    request = urllib.request.Request(
        endpoint.rstrip("/") + ROUTE, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["create_date"]
