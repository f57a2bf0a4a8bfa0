# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the tests, the molecule scenarios and the developer's tools share, imported as
`ansible_collections.mfa_onboarding.iam.tests.support.<module>` (PYTHONPATH names the root that holds
`ansible_collections/`, as the Makefile sets it):

- `moto_server`: a moto server on a free loopback port (a class, and a start/stop command line);
- `sign_in`: what a new user does at the first sign-in (new password, virtual MFA device);
- `recorder`: the one read/write classification of API actions, and a recorder of botocore calls;
- `faults`: the one fault point (crash, throttling, scripted errors), as a WSGI middleware in front of moto on
  loopback or as a patch of botocore for in-process moto;
- `guards`: the one check of security invariants 1 and 2 over IAM state;
- `iam_state`: the account the suites bootstrap, and a snapshot of the whole account;
- `tls`: a test CA and the server certificates it issues (PEM files);
- `smtp_server`: a real SMTP server on loopback (STARTTLS, implicit TLS or none, then a login; its certificate
  from a test CA, or from another one; sessions and messages recorded);
- `aws_names`: AWS's case-insensitive user and group names in front of moto (which tells Alice from alice);
- `policy_eval`: an evaluator of identity policies, for what moto cannot decide (conditions, variables);
- `scenario`: the checks that the molecule scenarios and the suites that read handover notes share;
- `reports`: where a suite leaves a table of its figures (build/reports/);
- `module_runner`: a module run in the test process, as ansible would run it (arguments in, its JSON out);
- `botocore_models`: a pytest plugin that has botocore parse its data files once per process, not per session.
"""
