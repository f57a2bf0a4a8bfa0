# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Build the collection's HTML reference (modules, roles) with antsibull-docs and Sphinx, offline.

python tools/docs_build.py [--dest DIR]

The collection must be findable through ANSIBLE_COLLECTIONS_PATH (the Makefile points it at build/collections).
Writes DIR/src (the Sphinx project `antsibull-docs sphinx-init` makes, and the RST that `antsibull-docs collection`
renders) and DIR/html (open DIR/html/index.html); DIR is build/docs by default.

Offline, Sphinx cannot load the inventories of docs.ansible.com (intersphinx), so references to pages outside
this collection (amazon.aws's modules, the Ansible docsite's `common_return_values`...) stay plain text: those
"undefined label" warnings are listed and allowed. Any other Sphinx warning fails the build.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTION = "mfa_onboarding.iam"
DEFAULT_DEST = os.path.join(ROOT, "build", "docs")
# An undefined label is allowed when it names no page of this collection.
_UNDEFINED_LABEL = re.compile(r"WARNING: undefined label: '([^']+)'")
_OWN_LABEL = "ansible_collections." + COLLECTION + "."


def _tool(name: str) -> str:
    beside = os.path.join(os.path.dirname(sys.executable), name)
    found = beside if os.access(beside, os.X_OK) else shutil.which(name)
    if not found:
        sys.exit(f"docs_build: {name} not found: install requirements/docs.txt into .venv")
    return found


def _run(cmd: list[str], cwd: str, quiet: bool = False) -> None:
    """Run cmd; with quiet, show its output only if it fails (Sphinx's warnings go to a file, judged below)."""
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, check=False, capture_output=quiet, text=True)
    if proc.returncode != 0:
        if quiet:
            sys.stdout.write(proc.stdout + proc.stderr)
        sys.exit(f"docs_build: {os.path.basename(cmd[0])} failed (exit {proc.returncode})")


def external_reference(line: str) -> bool:
    """Whether a Sphinx warning is an unresolved reference to a page outside this collection."""
    match = _UNDEFINED_LABEL.search(line)
    return bool(match) and not match.group(1).startswith(_OWN_LABEL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default=DEFAULT_DEST, help="output folder (src/ and html/ below it)")
    args = parser.parse_args()
    dest = os.path.abspath(args.dest)
    src, html = os.path.join(dest, "src"), os.path.join(dest, "html")
    started = time.monotonic()

    shutil.rmtree(dest, ignore_errors=True)
    # antsibull-docs wants its folders writable by their owner only.
    os.makedirs(src, mode=0o700)
    antsibull_docs = _tool("antsibull-docs")
    _run([antsibull_docs, "sphinx-init", "--use-current", "--dest-dir", src, COLLECTION], cwd=dest)
    with open(os.path.join(src, "conf.py"), "a", encoding="utf-8") as handle:
        handle.write(
            "\n# tools/docs_build.py: no network here, so no intersphinx inventories.\nintersphinx_mapping = {}\n"
        )
    rst = os.path.join(src, "rst")
    os.makedirs(rst, mode=0o700, exist_ok=True)
    os.chmod(rst, 0o700)
    _run(
        [
            antsibull_docs,
            "--config-file",
            os.path.join(src, "antsibull-docs.cfg"),
            "collection",
            "--cleanup",
            "everything",
            "--use-current",
            "--dest-dir",
            rst,
            COLLECTION,
        ],
        cwd=src,
    )
    rendered = time.monotonic()

    warnings_file = os.path.join(dest, "sphinx-warnings.txt")
    _run(
        [_tool("sphinx-build"), "-b", "html", "-q", "-c", src, "--keep-going", "-w", warnings_file, rst, html],
        cwd=src,
        quiet=True,
    )
    with open(warnings_file, encoding="utf-8") as handle:
        warnings = [line.rstrip() for line in handle if "WARNING" in line or "ERROR" in line]
    allowed = [line for line in warnings if external_reference(line)]
    others = [line for line in warnings if not external_reference(line)]
    done = time.monotonic()

    print(f"antsibull-docs rendered the RST in {rendered - started:.1f} s, Sphinx the HTML in {done - rendered:.1f} s")
    if allowed:
        print(f"{len(allowed)} reference(s) outside the collection left as plain text (no intersphinx offline):")
        for line in allowed:
            print(f"  {line.replace(rst + os.sep, '')}")
    if others:
        print(f"FAILED: {len(others)} Sphinx warning(s):")
        for line in others:
            print(f"  {line}")
        return 1
    print(f"docs built: {os.path.relpath(os.path.join(html, 'index.html'), ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
