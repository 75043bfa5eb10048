"""``catdog package``, ``deploy``, ``outputs``, ``smoke`` and ``destroy`` (AWS).

The composition root of deployment: builds the clients, the installer and the
post-deploy steps, then hands them to ``hosts.deploy``, which plans before it acts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catdog.errors import InvalidInput, NotFound
from catdog.settings import Settings
from hosts.deploy.package import PackageManifest

DEFAULT_OUT = Path("build/aws")
REPO_ROOT = Path(__file__).resolve().parents[2]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    package = subparsers.add_parser("package", help="build the AWS bundles (reproducible zips)")
    package.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    package.add_argument("--index-url", help="package index for the Lambda dependencies")
    package.set_defaults(func=run_package)

    deploy = subparsers.add_parser("deploy", help="create or update the AWS stack")
    _stack_arguments(deploy)
    deploy.add_argument(
        "--bucket", help="artifacts bucket (default: NAME-artifacts-ACCOUNT-REGION)"
    )
    deploy.add_argument(
        "--package", type=Path, help="use this `catdog package` folder instead of building one"
    )
    deploy.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE",
        help="template parameter override, e.g. RunInstanceType=t3.large (repeatable)",
    )  # fmt: skip
    deploy.add_argument("--plan", action="store_true", help="print the plan and stop")
    deploy.set_defaults(func=run_deploy)

    outputs = subparsers.add_parser("outputs", help="print a deployed stack's outputs")
    _stack_arguments(outputs)
    outputs.add_argument(
        "--env", action="store_true", help='as CATDOG_* variables (eval "$(catdog outputs ...)")'
    )
    outputs.set_defaults(func=run_outputs)

    destroy = subparsers.add_parser("destroy", help="empty the stack's buckets, delete the stack")
    _stack_arguments(destroy)
    destroy.add_argument("--purge-artifacts", action="store_true", help="delete artifacts too")
    destroy.add_argument("--yes", action="store_true", help="really delete (data included)")
    destroy.set_defaults(func=run_destroy)

    smoke = subparsers.add_parser(
        "smoke", help="check a deployed stack: upload, classify, list, a forced run, alarms"
    )
    _stack_arguments(smoke)
    smoke.add_argument(
        "--token-file", required=True, type=Path, metavar="PATH",
        help="file holding a manager's access token (Cognito), '-' to read it from stdin",
    )  # fmt: skip
    smoke.add_argument("--classify-timeout", type=float, default=300.0, metavar="SECONDS")
    smoke.add_argument("--run-timeout", type=float, default=3600.0, metavar="SECONDS")
    smoke.set_defaults(func=run_smoke)


def _stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, metavar="NAME", help="stack name")
    parser.add_argument("--region", help="AWS region (default: the AWS profile's)")


def run_package(args: argparse.Namespace, settings: Settings) -> int:
    manifest = _build(args.out, args.index_url)
    for artifact in sorted(manifest.artifacts.values(), key=lambda a: a.name):
        print(f"{manifest.folder / artifact.file_name}  {artifact.size:>10}  {artifact.sha256}")
    return 0


def run_deploy(args: argparse.Namespace, settings: Settings) -> int:
    from hosts.deploy.clients import deploy_clients
    from hosts.deploy.deployer import execute_deploy, plan_deploy
    from hosts.deploy.outputs import outputs_env

    manifest = PackageManifest.load(args.package) if args.package else _build(DEFAULT_OUT, None)
    clients = deploy_clients(args.region)
    plan = plan_deploy(clients, manifest, args.stack, args.bucket, _overrides(args.parameter))
    print("\n".join(plan.describe()))
    if args.plan:
        return 0
    outputs = execute_deploy(clients, plan, _say)
    after_deploy(outputs, clients.region)
    print("\noutputs:")
    for key, value in sorted(outputs.items()):
        print(f"  {key}: {value}")
    print("\nsettings for the catdog CLI against this stack:")
    for name, value in sorted(outputs_env(outputs).items()):
        print(f"  {name}={value}")
    return 0


def after_deploy(outputs: dict[str, str], region: str) -> None:
    """Copy the static files to their bucket and make the shipped baseline the first
    champion (both idempotent), so the app works before its first training run."""
    from catdog.bootstrap import default_baseline_dir, ensure_champion
    from catdog.storage.factory import build_storage
    from hosts.deploy.outputs import settings_from_outputs
    from web.static_files import publish_static

    settings = settings_from_outputs(outputs, {"CATDOG_AWS_REGION": region})
    storage = build_storage(settings)
    _say(f"published {len(publish_static(storage.blobs))} static files")
    baseline = default_baseline_dir(settings)
    champion = ensure_champion(storage, baseline)
    if champion is None:
        _say(f"no champion yet (no baseline model at {baseline}); the first run will make one")
    else:
        _say(f"champion model: {champion.version}")


def run_outputs(args: argparse.Namespace, settings: Settings) -> int:
    """The outputs, or the settings that point the ``catdog`` CLI at the stack."""
    import shlex

    from hosts.deploy.clients import deploy_clients
    from hosts.deploy.outputs import outputs_env
    from hosts.deploy.stack import stack_outputs, stack_status

    clients = deploy_clients(args.region)
    if stack_status(clients.cloudformation, args.stack) is None:
        raise NotFound(f"no stack named {args.stack} in {clients.region}")
    outputs = stack_outputs(clients.cloudformation, args.stack)
    if args.env:
        for name, value in sorted(outputs_env(outputs).items()):
            print(f"export {name}={shlex.quote(value)}")
    else:
        for key, value in sorted(outputs.items()):
            print(f"{key}: {value}")
    return 0


def run_destroy(args: argparse.Namespace, settings: Settings) -> int:
    from hosts.deploy.clients import deploy_clients
    from hosts.deploy.destroyer import execute_destroy, plan_destroy

    clients = deploy_clients(args.region)
    plan = plan_destroy(clients, args.stack, args.purge_artifacts)
    print("\n".join(plan.describe()))
    if not args.yes:
        print("nothing deleted: add --yes to delete the stack and all its data", file=sys.stderr)
        return 2
    execute_destroy(clients, plan, _say)
    _say(f"stack {args.stack} deleted")
    return 0


def run_smoke(args: argparse.Namespace, settings: Settings) -> int:
    """Each step printed PASS or FAIL; exit 1 at the first failure."""
    from hosts.deploy.clients import smoke_clients
    from hosts.deploy.smoke import SmokeOptions, SmokeTest, UrllibHttp

    raw = sys.stdin.read() if str(args.token_file) == "-" else args.token_file.read_text()
    token = raw.strip()
    if not token:
        raise InvalidInput("the token file is empty: put a manager's access token in it")
    smoke = SmokeTest(
        args.stack,
        smoke_clients(UrllibHttp(), args.region),
        SmokeOptions(token, args.classify_timeout, args.run_timeout),
        say=_say,
    )
    return 0 if smoke.run() else 1


def _build(out: Path, index_url: str | None) -> PackageManifest:
    from hosts.deploy.dependencies import PipInstaller
    from hosts.deploy.package import build_package

    _say(f"packaging into {out} (Lambda dependencies from the package index)")
    return build_package(REPO_ROOT, out, PipInstaller(index_url=index_url))


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--parameter takes KEY=VALUE, not {pair!r}")
        overrides[key] = value
    return overrides


def _say(message: str) -> None:
    print(message, flush=True)
