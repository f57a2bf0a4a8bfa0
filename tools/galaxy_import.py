# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Build the collection tarball and run Galaxy's import checks (galaxy-importer) on it, offline.

python tools/galaxy_import.py [--collection DIR] [--importer-python PYTHON] [--output DIR]

1. `ansible-galaxy collection build` from the collection copy (build/collections/ansible_collections/mfa_onboarding/iam
   by default, as `make layout` lays it out), into the output folder (build/galaxy-import).
2. galaxy-importer on that tarball, from its own venv (build/importer-venv, requirements/importer.txt: it pins
   versions that clash with .venv), with a config file written into the output folder:
   - RUN_ANSIBLE_TEST = False: the importer runs ansible-test sanity inside a container (podman or docker), which
     this machine does not have; `make sanity` runs ansible-test sanity instead.
   - everything else on, as Galaxy has it: ansible-doc on every plugin, ansible-lint (production profile, in its
     offline mode), the changelog check.
   The importer sets ANSIBLE_COLLECTIONS_PATH to its own temporary folder, so the dependencies that galaxy.yml
   names (amazon.aws, community.general) reach ansible-doc and ansible-lint through PYTHONPATH: a folder of
   symlinks to the copies beside the collection.
3. The verdict. galaxy-importer says "completed successfully" and exits 0 even when ansible-doc failed on every
   module, so this script reads its log and importer_result.json and fails on: any ERROR or CRITICAL line, a
   traceback, an ansible-lint finding (unless --allow-lint-findings; a reference to one of our own playbooks, which
   the importer's placeholder path hides from ansible-lint, stays a warning), a module without documentation in the
   result, a role without a README, or a result whose name or version differs from galaxy.yml. Every line the
   importer logged is printed, warnings included, and the warnings are summed up at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import typing as t

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
DEFAULT_COLLECTION = os.path.join(BUILD, "collections", "ansible_collections", "mfa_onboarding", "iam")
DEFAULT_IMPORTER_PYTHON = os.path.join(BUILD, "importer-venv", "bin", "python")
DEFAULT_OUTPUT = os.path.join(BUILD, "galaxy-import")

CONFIG = """\
# Written by tools/galaxy_import.py.
[galaxy-importer]
# ansible-test sanity runs in a container (podman/docker), which this machine lacks: `make sanity` covers it.
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_DOC = True
RUN_ANSIBLE_LINT = True
# ansible-lint must not try to install galaxy.yml's dependencies from Galaxy (unreachable).
OFFLINE_ANSIBLE_LINT = True
CHECK_CHANGELOG = True
# Only for legacy (standalone) roles; a collection import ignores it.
RUN_FLAKE8 = False
LOG_LEVEL_MAIN = INFO
ANSIBLE_LOCAL_TMP = {tmp}
"""

LINT_BEGIN = "Linting collection via ansible-lint"
LINT_END = "...ansible-lint run complete"
IMPORTER_TIMEOUT = 900


def _fail(message: str) -> t.NoReturn:
    print(f"galaxy_import: {message}", file=sys.stderr)
    sys.exit(1)


def _ansible_galaxy() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    found = beside if os.access(beside, os.X_OK) else shutil.which("ansible-galaxy")
    if not found:
        _fail("ansible-galaxy not found: run this with the Python of .venv (make venv)")
    return found


def build(collection: str, output: str) -> tuple[str, dict[str, t.Any]]:
    """`ansible-galaxy collection build` into output; the tarball's path and galaxy.yml's content."""
    with open(os.path.join(collection, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    tarball = os.path.join(output, f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz")
    if os.path.exists(tarball):
        os.unlink(tarball)
    cmd = [_ansible_galaxy(), "collection", "build", "--force", "--output-path", output, collection]
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=collection, capture_output=True, text=True, check=False)
    sys.stdout.write(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not os.path.isfile(tarball):
        _fail(f"ansible-galaxy collection build failed (exit {proc.returncode})")
    return tarball, galaxy


def dependency_path(collection: str, galaxy: dict[str, t.Any], output: str) -> str:
    """A folder holding ansible_collections/<ns>/<name> symlinks for galaxy.yml's dependencies, for PYTHONPATH."""
    # collection is .../ansible_collections/<namespace>/<name>: its dependencies sit beside it.
    siblings = os.path.dirname(os.path.dirname(os.path.abspath(collection)))
    pythonpath = os.path.join(output, "pythonpath")
    shutil.rmtree(pythonpath, ignore_errors=True)
    for fqcn in galaxy.get("dependencies") or {}:
        namespace, name = fqcn.split(".", 1)
        source = os.path.realpath(os.path.join(siblings, namespace, name))
        if not os.path.isfile(os.path.join(source, "MANIFEST.json")) and not os.path.isfile(
            os.path.join(source, "galaxy.yml")
        ):
            _fail(f"dependency {fqcn} not found at {os.path.join(siblings, namespace, name)} (make layout lays it out)")
        os.makedirs(os.path.join(pythonpath, "ansible_collections", namespace), exist_ok=True)
        os.symlink(source, os.path.join(pythonpath, "ansible_collections", namespace, name))
    return pythonpath


def run_importer(importer_python: str, tarball: str, output: str, pythonpath: str) -> tuple[int, list[str]]:
    """galaxy-importer on tarball, in output (where it writes importer_result.json); its exit code and log lines."""
    config = os.path.join(output, "galaxy-importer.cfg")
    tmp = os.path.join(output, "ansible-tmp")
    os.makedirs(tmp, exist_ok=True)
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(CONFIG.format(tmp=tmp))
    result = os.path.join(output, "importer_result.json")
    if os.path.exists(result):
        os.unlink(result)

    env = {
        key: value
        for key, value in os.environ.items()
        # Our own venv, collections path and settings stay out: the importer brings its own, and reads
        # GALAXY_IMPORTER_* variables as overrides of its config file.
        if not key.startswith(("GALAXY_IMPORTER_", "ANSIBLE_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["GALAXY_IMPORTER_CONFIG"] = config
    env["PYTHONPATH"] = pythonpath
    # The importer finds ansible-doc and ansible-lint on PATH: those of its own venv.
    env["PATH"] = os.path.dirname(importer_python) + os.pathsep + os.environ.get("PATH", "")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["NO_COLOR"] = "1"

    cmd = [importer_python, "-m", "galaxy_importer.main", os.path.basename(tarball)]
    print(f"$ GALAXY_IMPORTER_CONFIG={config} PYTHONPATH={pythonpath} " + " ".join(cmd), flush=True)
    with open(config, encoding="utf-8") as handle:
        print("".join(f"  | {line}" for line in handle), end="")
    lines: list[str] = []
    proc = subprocess.Popen(
        cmd,
        cwd=output,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    started = time.monotonic()
    for line in proc.stdout:
        line = line.rstrip("\n")
        lines.append(line)
        print(f"  importer: {line}", flush=True)
        if time.monotonic() - started > IMPORTER_TIMEOUT:
            proc.kill()
            _fail(f"galaxy-importer took longer than {IMPORTER_TIMEOUT} s")
    return proc.wait(), lines


def own_playbook_reference(line: str, galaxy: dict[str, t.Any], collection: str) -> bool:
    """Whether an ansible-lint finding is the importer's blind spot for our own playbooks.

    The importer extracts the tarball as ansible_collections/placeholder_namespace/placeholder_name, so ansible-lint
    cannot resolve `import_playbook: <namespace>.<name>.<playbook>` (docs/awx/project/*.yml) there, although the
    playbook is in the tarball and resolves once the collection is installed (`make ansible-lint` checks them).
    """
    match = re.search(r"Failed to find ([\w.]+) playbook\.$", line)
    if not match:
        return False
    prefix = f"{galaxy['namespace']}.{galaxy['name']}."
    if not match.group(1).startswith(prefix):
        return False
    playbook = match.group(1)[len(prefix) :]
    return any(os.path.isfile(os.path.join(collection, "playbooks", playbook + ext)) for ext in (".yml", ".yaml"))


def judge_log(
    lines: list[str], allow_lint_findings: bool, galaxy: dict[str, t.Any], collection: str
) -> tuple[list[str], list[str]]:
    """The problems (failures) and the warnings in the importer's log."""
    problems: list[str] = []
    warnings: list[str] = []
    in_lint = False
    for line in lines:
        if line.startswith(LINT_BEGIN):
            in_lint = True
        elif line.startswith(LINT_END):
            in_lint = False
        if line.startswith(("ERROR:", "CRITICAL:")):
            problems.append(line)
        elif "Traceback (most recent call last)" in line:
            problems.append(f"traceback in the importer's log: {line.strip()}")
        elif line.startswith("WARNING:"):
            warnings.append(line)
            if in_lint and not allow_lint_findings and not own_playbook_reference(line, galaxy, collection):
                problems.append(f"ansible-lint finding: {line}")
    if not any(line.startswith("Importer processing completed successfully") for line in lines):
        problems.append("the importer did not say 'Importer processing completed successfully'")
    return problems, warnings


def judge_result(result_path: str, galaxy: dict[str, t.Any]) -> list[str]:
    """The problems in importer_result.json."""
    if not os.path.isfile(result_path):
        return [f"no {os.path.basename(result_path)}: the import failed"]
    with open(result_path, encoding="utf-8") as handle:
        result = json.load(handle)
    problems: list[str] = []
    metadata = result.get("metadata") or {}
    for key in ("namespace", "name", "version"):
        if metadata.get(key) != galaxy.get(key):
            problems.append(f"result's metadata {key}={metadata.get(key)!r}, galaxy.yml says {galaxy.get(key)!r}")
    contents = (result.get("docs_blob") or {}).get("contents") or []
    if not contents:
        problems.append("the result lists no content")
    for content in contents:
        kind, name = content.get("content_type"), content.get("content_name")
        if kind == "module" and not (content.get("doc_strings") or {}).get("doc"):
            problems.append(f"module {name}: no documentation in the result (ansible-doc failed on it)")
        if kind == "role" and not content.get("readme_file"):
            problems.append(f"role {name}: no README in the result")
    if not (result.get("docs_blob") or {}).get("collection_readme"):
        problems.append("the result has no collection README")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", default=DEFAULT_COLLECTION, help="the collection copy (with galaxy.yml)")
    parser.add_argument("--importer-python", default=DEFAULT_IMPORTER_PYTHON, help="Python of galaxy-importer's venv")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="folder for the tarball, config, log and result")
    parser.add_argument(
        "--allow-lint-findings", action="store_true", help="report ansible-lint findings without failing on them"
    )
    args = parser.parse_args()

    if not os.path.isfile(os.path.join(args.collection, "galaxy.yml")):
        _fail(f"no galaxy.yml in {args.collection}: lay the collection out first (make layout)")
    if not os.access(args.importer_python, os.X_OK):
        _fail(f"{args.importer_python} not found: create the venv from requirements/importer.txt")
    output = os.path.abspath(args.output)
    os.makedirs(output, exist_ok=True)

    started = time.monotonic()
    tarball, galaxy = build(args.collection, output)
    built = time.monotonic()
    print(f"built {tarball} ({os.path.getsize(tarball)} bytes) in {built - started:.1f} s", flush=True)

    pythonpath = dependency_path(args.collection, galaxy, output)
    code, lines = run_importer(os.path.abspath(args.importer_python), tarball, output, pythonpath)
    imported = time.monotonic()
    with open(os.path.join(output, "importer.log"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")

    problems, warnings = judge_log(lines, args.allow_lint_findings, galaxy, args.collection)
    if code != 0:
        problems.insert(0, f"galaxy-importer exited {code}")
    problems += judge_result(os.path.join(output, "importer_result.json"), galaxy)

    print(f"galaxy-importer ran in {imported - built:.1f} s (RUN_ANSIBLE_TEST off: it needs a container)")
    print(f"{len(warnings)} warning(s) from the importer" + (":" if warnings else ""))
    for warning in warnings:
        note = (
            " (the importer's placeholder path hides our own playbooks)"
            if own_playbook_reference(warning, galaxy, args.collection)
            else ""
        )
        print(f"  {warning}{note}")
    if problems:
        print(f"FAILED: {len(problems)} problem(s):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"galaxy import passed: {os.path.relpath(tarball, ROOT)}, log and result in {os.path.relpath(output, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
