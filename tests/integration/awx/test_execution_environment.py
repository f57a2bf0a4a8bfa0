# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The execution environment: `ansible-builder create` (no container build) writes the build context of
execution-environment.yml, and the context holds the Python and collection requirements exactly as declared.

The collection tarball is built with `ansible-galaxy collection build` next to a copy of the definition, as the
README's two commands do next to the real one. Broken copies of the definition show that the checks do fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import typing as t

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.dirname(sys.executable)
DEFINITION_FILES = ("execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-requirements.yml")
# What the collection needs (galaxy.yml) and what its modules import (requirements/runtime.txt).
EXPECTED_COLLECTIONS = {
    "amazon.aws": ">=10.0.0,<11.0.0",
    "community.general": ">=9.1.0",
}


def load_yaml(path: str) -> t.Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def requirement_lines(path: str) -> list[str]:
    """The requirement lines of a pip requirements file, without comments, blanks and `-r` includes."""
    with open(path, encoding="utf-8") as handle:
        lines = [line.split("#", 1)[0].strip() for line in handle]
    return [line for line in lines if line and not line.startswith("-")]


def pins(path: str) -> dict[str, str]:
    """name -> version of the `name==version` lines of a requirements file."""
    found = {}
    for line in requirement_lines(path):
        name, sep, version = line.partition("==")
        if sep:
            found[name.strip().lower()] = version.strip()
    return found


def galaxy_version() -> str:
    return str(load_yaml(os.path.join(ROOT, "galaxy.yml"))["version"])


def tarball_name() -> str:
    return f"mfa_onboarding-iam-{galaxy_version()}.tar.gz"


def copy_definition(target: str) -> str:
    """The definition files copied into `target` with their relative layout; the path of the copied EE file."""
    for relative in DEFINITION_FILES:
        os.makedirs(os.path.dirname(os.path.join(target, relative)) or target, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, relative), os.path.join(target, relative))
    return os.path.join(target, DEFINITION_FILES[0])


def build_tarball(output: str) -> str:
    completed = subprocess.run(
        [os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", output, ROOT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    path = os.path.join(output, tarball_name())
    assert os.path.isfile(path), f"ansible-galaxy did not write {tarball_name()}: {completed.stdout}"
    return path


def create(definition: str, context: str) -> subprocess.CompletedProcess[str]:
    """`ansible-builder create` with podman's file name; fails the test unless it succeeds."""
    completed = subprocess.run(
        [
            os.path.join(BIN, "ansible-builder"),
            "create",
            "-f",
            definition,
            "--context",
            context,
            "--output-filename",
            "Containerfile",
            "-v3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def check_context(definition: str, context: str, output: str) -> list[str]:
    """What differs between the build context and what the definition and the repository declare."""
    problems = []
    ee = load_yaml(definition)
    build = os.path.join(context, "_build")
    containerfile = os.path.join(context, "Containerfile")
    if ee.get("version") != 3:
        problems.append(f"execution-environment.yml: schema version {ee.get('version')!r}, expected 3")
    if not os.path.isfile(containerfile):
        return [*problems, "no Containerfile in the context"]
    with open(containerfile, encoding="utf-8") as handle:
        text = handle.read()

    # Python: the context's requirements.txt is the declared file, and that file pins what runtime.txt pins.
    declared = requirement_lines(os.path.join(os.path.dirname(definition), ee["dependencies"]["python"]))
    generated_path = os.path.join(build, "requirements.txt")
    generated = requirement_lines(generated_path) if os.path.isfile(generated_path) else None
    if generated != declared:
        problems.append(f"_build/requirements.txt holds {generated}, the definition declares {declared}")
    runtime = requirement_lines(os.path.join(ROOT, "requirements", "runtime.txt"))
    if sorted(declared) != sorted(runtime):
        problems.append(f"the EE's Python requirements {declared} differ from requirements/runtime.txt {runtime}")
    if "COPY _build/requirements.txt requirements.txt" not in text or "introspect" not in text:
        problems.append("the Containerfile does not install _build/requirements.txt")

    # Collections: exactly the declared list, the versions galaxy.yml declares, and this collection's tarball.
    galaxy_declared = load_yaml(os.path.join(os.path.dirname(definition), ee["dependencies"]["galaxy"]))
    generated_path = os.path.join(build, "requirements.yml")
    galaxy_generated = load_yaml(generated_path) if os.path.isfile(generated_path) else None
    if galaxy_generated != galaxy_declared:
        problems.append(f"_build/requirements.yml holds {galaxy_generated}, the definition declares {galaxy_declared}")
    collections = {c["name"]: c.get("version") for c in (galaxy_declared or {}).get("collections", [])}
    dependencies = load_yaml(os.path.join(ROOT, "galaxy.yml"))["dependencies"]
    for name, version in EXPECTED_COLLECTIONS.items():
        if collections.get(name) != version or dependencies.get(name) != version:
            problems.append(
                f"{name}: the EE asks for {collections.get(name)!r}, galaxy.yml for {dependencies.get(name)!r},"
                f" expected {version!r}"
            )
    own = f"collections/{tarball_name()}"
    if collections.get(own, "missing") is not None:
        problems.append(f"the EE's collections do not install this collection's tarball {own}")
    if "ansible-galaxy collection install" not in text or "-r requirements.yml" not in text:
        problems.append("the Containerfile does not install the collections of _build/requirements.yml")
    copied = os.path.join(build, own)
    if not os.path.isfile(copied):
        problems.append(f"the context lacks _build/{own}")
    else:
        with tarfile.open(copied) as tar:
            names = set(tar.getnames())
        for needed in ("MANIFEST.json", "playbooks/onboard.yml", "roles/promote/tasks/main.yml", "meta/runtime.yml"):
            if needed not in names:
                problems.append(f"the collection tarball lacks {needed}")
        if any(name.startswith((".venv/", "build/", "tools/")) for name in names):
            problems.append("the collection tarball holds .venv/, build/ or tools/")

    # ansible-core and ansible-runner: the versions the tests run with.
    tested = pins(os.path.join(ROOT, "requirements", "test.txt")) | pins(os.path.join(ROOT, "requirements", "awx.txt"))
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', text, re.MULTILINE)
    wanted = f"ansible-core=={tested.get('ansible-core')} ansible-runner=={tested.get('ansible-runner')}"
    if refs is None or refs.group(1) != wanted:
        problems.append(f"the Containerfile installs {refs and refs.group(1)!r}, the tests run {wanted!r}")
    if not re.search(r"^FROM \$EE_BASE_IMAGE AS base$", text, re.MULTILINE):
        problems.append("the Containerfile does not start from the base image")
    if "No matches" in output or "does not exist" in output:
        problems.append(f"ansible-builder warned: {output.strip()}")
    return problems


def test_create_writes_the_declared_context(tmp_path: t.Any) -> None:
    definition = copy_definition(str(tmp_path / "definition"))
    build_tarball(os.path.dirname(definition))
    completed = create(definition, str(tmp_path / "context"))
    output = completed.stdout + completed.stderr
    problems = check_context(definition, str(tmp_path / "context"), output)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("breakage", ["no tarball", "python pin", "collection version", "runner version"])
def test_the_checks_find_a_broken_definition(tmp_path: t.Any, breakage: str) -> None:
    definition = copy_definition(str(tmp_path / "definition"))
    directory = os.path.dirname(definition)
    if breakage != "no tarball":
        build_tarball(directory)

    def edit(relative: str, old: str, new: str) -> None:
        path = os.path.join(directory, relative)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        assert old in text, f"{relative} no longer holds {old!r}: update this test"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text.replace(old, new))

    if breakage == "python pin":
        edit("meta/ee-requirements.txt", "boto3==", "boto3>=")
    elif breakage == "collection version":
        edit("meta/ee-requirements.yml", '">=10.0.0,<11.0.0"', '">=9.0.0"')
    elif breakage == "runner version":
        edit("execution-environment.yml", "ansible-runner==", "ansible-runner>=")
    completed = create(definition, str(tmp_path / "context"))
    problems = check_context(definition, str(tmp_path / "context"), completed.stdout + completed.stderr)
    assert problems, f"{breakage}: the checks found nothing"
