# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stand-in for ansible-test's pip bootstrap script (get-pip.py), which it would download from a host that is
not reachable here. The Makefile saves it as $HOME/.ansible/test/cache/get_pip_24_2.py.

It installs pip with the interpreter's own ensurepip, in a subprocess so that pip keeps reading /etc/pip.conf,
then installs what ansible-test asked for from the package index pip is configured for.
"""

from __future__ import annotations

import subprocess
import sys

_DROPPED = ("--no-setuptools", "--no-wheel")


def main() -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
    args = [arg for arg in sys.argv[1:] if arg not in _DROPPED]
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
