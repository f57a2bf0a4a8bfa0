# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""botocore's data files read once per test process instead of once per session: a pytest plugin.

Every botocore session gets a loader of its own, which parses the JSON models (IAM's service model, the
endpoints, the partitions, the endpoint rule set...) again. A module run makes a session of its own (amazon.aws's
boto3_conn), and so does every test's own client: in-process module tests spent about half of their time in
json.loads. With this plugin every session of the process shares one loader per data path, so each file is parsed
once; what botocore does with the data is unchanged (the loader already hands the same parsed objects to every
client of one session).

The Makefile's pytest runs load it (`-p ansible_collections.mfa_onboarding.iam.tests.support.botocore_models`);
a run without it is slower, not different. Module runs in a process of their own (ansible-playbook, molecule)
are not affected.
"""

from __future__ import annotations

import functools
import typing as t

import botocore.loaders
import botocore.session

_create_loader = botocore.loaders.create_loader


class _SearchPaths(list):  # type: ignore[type-arg]
    """A loader's search paths, each at most once: every boto3 session appends boto3's data path to its loader."""

    def append(self, path: t.Any) -> None:
        if path not in self:
            super().append(path)


@functools.lru_cache(maxsize=None)
def shared_loader(search_path_string: t.Any = None) -> botocore.loaders.Loader:
    """One loader (and so one cache of parsed files) per data path, for every session of this process."""
    loader = _create_loader(search_path_string)
    loader._search_paths = _SearchPaths(loader.search_paths)
    return loader


def share() -> None:
    """Make every botocore session created from now on use the shared loader of its data path."""
    botocore.session.create_loader = shared_loader


def pytest_configure(config: t.Any) -> None:
    share()
