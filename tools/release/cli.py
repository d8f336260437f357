"""Command line: ``python -m tools.release [options] COMMAND [-- container command]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tools.release.commands import COMMANDS, Release, execute
from tools.release.docker import DockerCli
from tools.release.errors import ReleaseError
from tools.release.settings import ReleaseSettings

ENVIRONMENT_HELP = """\
environment:
  DOCKER_REGISTRY             development registry host[:port] (every command but show)
  DOCKER_REGISTRY_USER        its user and password
  DOCKER_REGISTRY_PASS          (push, push-latest, pipeline*, except pipeline-prod*)
  DOCKER_REGISTRY_PROD        production registry host[:port] (tag-prod*, push-prod*)
  DOCKER_REGISTRY_PROD_USER   its user and password
  DOCKER_REGISTRY_PROD_PASS     (push-prod*, pipeline-prod*, pipeline-all*)
  BUILD_IMAGE_NAME           image name (default page-tracker); BUILD_NAMESPACE prefix
  BUILD_CONTEXT, BUILD_DOCKERFILE  what to build (default: the repository's Dockerfile)
  RELEASE_STATE_DIR          where .docker_build_version/.docker_build_image live
                             (default: the repository root)

The unique tag is <pyproject version>-<git short sha>-<UTC yyyymmddThhmmssZ>; build
passes VERSION, REVISION and SOURCE as build args for the OCI labels.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one positional command, as in seed 003's docker.sh)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.release",
        description="Build, run, push and promote page-tracker's Docker image (seed 003).",
        epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_line, _) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_line, description=help_line)
        _add_common(sub)
        if name == "run":
            sub.add_argument(
                "-p",
                "--publish",
                action="append",
                metavar="SPEC",
                help="docker run -p SPEC (repeatable; default 127.0.0.1:8000:8000)",
            )
            sub.add_argument("--no-publish", action="store_true", help="publish no port")
            sub.add_argument("--env-file", type=Path, help="docker run --env-file FILE")
            sub.add_argument("container_command", nargs=argparse.REMAINDER, help="command after --")
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", help="image name (overrides BUILD_IMAGE_NAME)")
    parser.add_argument("--context", type=Path, help="build context (overrides BUILD_CONTEXT)")
    parser.add_argument("--dockerfile", type=Path, help="Dockerfile (overrides BUILD_DOCKERFILE)")
    parser.add_argument("--state-dir", type=Path, help="build record folder (RELEASE_STATE_DIR)")
    parser.add_argument("--no-cache", action="store_true", help="docker build --no-cache")


def _run_options(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    if args.command != "run":
        return [], []
    options: list[str] = []
    if not args.no_publish:
        for spec in args.publish or ["127.0.0.1:8000:8000"]:
            options += ["-p", spec]
    if args.env_file is not None:
        options += ["--env-file", str(args.env_file)]
    command = list(args.container_command)
    if command[:1] == ["--"]:
        command = command[1:]
    return options, command


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success, 1 with one ``release: error:`` line on failure."""
    args = build_parser().parse_args(argv)
    settings = ReleaseSettings.from_env(
        image=args.image, context=args.context, dockerfile=args.dockerfile, state_dir=args.state_dir
    )
    options, command = _run_options(args)
    release = Release(
        settings=settings,
        docker=DockerCli(),
        no_cache=args.no_cache,
        run_options=options,
        run_command=command,
    )
    try:
        execute(release, args.command)
    except ReleaseError as exc:
        print(f"release: error: {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"release: error: {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
