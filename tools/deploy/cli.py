"""Command line: ``python -m tools.deploy [--env staging|production] COMMAND``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tools.deploy.compose_deploy import ComposeDeployment, ComposeTarget
from tools.deploy.config import DeployConfig
from tools.deploy.errors import DeployError
from tools.deploy.ssh_deploy import SshDeployment
from tools.release.errors import ReleaseError

SSH_COMMANDS = {
    "deploy": "build the wheel and deploy it as a new release (keeps the previous one)",
    "rollback": "switch back to the previous release and restart",
    "start": "start supervisord and the programs of the current release",
    "stop": "stop them",
    "restart": "stop, then start",
    "status": "show current/previous release and program states (exit 3: not running)",
    "releases": "list the releases installed on the host",
}

EPILOG = """\
configuration: deploy/env/<env>.env (or DEPLOY_ENV_FILE); DEPLOY_* variables in the
environment override it: DEPLOY_HOST, DEPLOY_USER, DEPLOY_SSH_PORT, DEPLOY_SSH_KEY,
DEPLOY_SSH_OPTIONS, DEPLOY_DIR, DEPLOY_PYTHON, DEPLOY_BIND, DEPLOY_PORT,
DEPLOY_WEB_WORKERS, DEPLOY_WORKER_CONCURRENCY, DEPLOY_WORKER_ARGS, DEPLOY_PROGRAMS
(web worker beat), DEPLOY_KEEP, DEPLOY_HEALTH_TIMEOUT. compose-deploy reads REGISTRY, VERSION,
DEPLOY_COMPOSE_FILE, DEPLOY_COMPOSE_PROJECT, DEPLOY_COMPOSE_SERVICE, DEPLOY_HEALTH_TIMEOUT.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.deploy",
        description="Deploy page-tracker over SSH (wheel + venv + supervisord) or with Compose.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", default="staging", help="environment: deploy/env/<env>.env")
    parser.add_argument("--env-file", type=Path, help="configuration file instead of --env's")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_line in SSH_COMMANDS.items():
        commands.add_parser(name, help=help_line, description=help_line)
    compose = commands.add_parser(
        "compose-deploy",
        help="pull, up -d, health check, roll back to the previous image on failure",
    )
    compose.add_argument("--version", help="image tag (default: VERSION, recorded build, latest)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 1 with one ``deploy: error:`` line when it fails."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "compose-deploy":
            ComposeDeployment(ComposeTarget.from_env(version=args.version)).deploy()
            return 0
        deployment = SshDeployment(DeployConfig.load(args.env, args.env_file))
        if args.command == "deploy":
            deployment.deploy()
            return 0
        return deployment.command(args.command)
    except (DeployError, ReleaseError) as exc:
        print(f"deploy: error: {args.command}: {exc}", file=sys.stderr)
        return 1
