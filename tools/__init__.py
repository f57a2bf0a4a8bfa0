# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The developer's commands (`python tools/<name>.py`, most of them through the Makefile): demo, bench, docs_build,
galaxy_import, role_docs, collection_path, get_pip_offline. A package so that tests/unit/tools can import them as
`ansible_collections.mfa_onboarding.iam.tools.<name>`; what the tools share with the tests (the moto server, the
first sign-in) is the test support package, `ansible_collections.mfa_onboarding.iam.tests.support`."""
