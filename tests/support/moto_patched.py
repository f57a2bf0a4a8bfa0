# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""moto with what it does not implement answered as AWS would, in-process and as a server.

moto (5.x) has no service-specific credentials: `ListServiceSpecificCredentials` raises NotImplementedError
inside moto (in-process) or answers HTTP 500 (server). The collection lists them for every user it disables or
offboards, as AWS requires. `apply()` gives moto's IAM the listing, answering an empty list, as AWS does for a
user without such credentials (moto cannot create any). The moto servers the tests, the demo and molecule start
run through this module:

    python -m ansible_collections.mfa_onboarding.iam.tests.support.moto_patched -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import typing as t

from moto.iam import responses

from ansible_collections.mfa_onboarding.iam.tests.support import moto_age


def _list_service_specific_credentials(self: t.Any) -> t.Any:
    return responses.ActionResult({"ServiceSpecificCredentials": []})


def apply() -> None:
    moto_age.apply()
    if not hasattr(responses.IamResponse, "list_service_specific_credentials"):
        responses.IamResponse.list_service_specific_credentials = _list_service_specific_credentials


def main() -> None:
    apply()
    from moto.server import main as server_main

    server_main()


if __name__ == "__main__":
    main()
