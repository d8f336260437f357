"""One server configuration everywhere (issue 13 item 4): ``make run``, the image's CMD,
both compose files' ``web`` and the bench start the same ``page-tracker serve``."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from bench.harness import SERVER_COMMANDS

ROOT = Path(__file__).resolve().parents[2]
SERVE = ["page-tracker", "serve", "--host"]


def makefile_run_command() -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None
    return shlex.split(recipe.group(1).replace("$(PT)", "page-tracker"))


def dockerfile_cmd() -> list[str]:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    cmds = [line for line in lines if line.startswith("CMD ")]
    command: list[str] = json.loads(cmds[-1].removeprefix("CMD "))  # the runtime stage's
    return command


def test_should_serve_with_page_tracker_serve_in_make_run_and_the_image() -> None:
    assert makefile_run_command()[:3] == SERVE
    assert dockerfile_cmd() == [*SERVE, "0.0.0.0", "--port", "8000"]  # noqa: S104 - container


@pytest.mark.parametrize("name", ["compose.yaml", "deploy/compose.yaml"])
def test_should_start_compose_web_with_the_image_command_and_its_sizes(name: str) -> None:
    web = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))["services"]["web"]
    command = [str(part) for part in web["command"]]

    assert command[:6] == dockerfile_cmd()
    assert command[6:] == ["--workers", "${WEB_WORKERS:-2}", "--threads", "${WEB_THREADS:-64}"]
    assert web["environment"]["TRUSTED_PROXIES"] == "1"  # nginx's X-Forwarded-For/-Proto


def test_should_bench_the_command_users_start() -> None:
    args, env = SERVER_COMMANDS["serve"]

    assert [Path(args[0]).name, *args[1:3]] == SERVE
    assert args[3:] == ["127.0.0.1", "--port", "{port}"]
    assert makefile_run_command()[3:] == ["$(HOST)", "--port", "$(PORT)"]
    assert env == {}


def test_should_leave_no_gunicorn_in_what_is_shipped() -> None:
    for name in ("Dockerfile", "compose.yaml", "deploy/compose.yaml", ".dockerignore"):
        assert "gunicorn" not in (ROOT / name).read_text(encoding="utf-8"), name
