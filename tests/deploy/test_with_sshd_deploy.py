"""Deploy over a real SSH connection, serve, redeploy and roll back (seed 004)."""

from __future__ import annotations

import socket

import pytest
import requests

from tests.deploy.conftest import DeployHost
from tests.deploy.sshd import keygen


def status_lines(host: DeployHost) -> dict[str, str]:
    """``make deploy-status`` as {"current": id, "previous": id, "web": "RUNNING pid ..."}."""
    done = host.make("deploy-status")
    assert done.returncode == 0, done.stdout + done.stderr
    found: dict[str, str] = {}
    for line in done.stdout.splitlines():
        if line.startswith(("current:", "previous:")):
            key, value = line.split(":", 1)
            found[key] = value.strip()
        elif line.strip():
            name, _, rest = line.partition(" ")
            found[name] = rest.strip()
    return found


def release_of(deploy_output: str) -> str:
    marker = "deployed "
    found = [
        line.split(marker, 1)[1].strip() for line in deploy_output.splitlines() if marker in line
    ]
    assert found, deploy_output
    return found[-1]


def test_should_deploy_serve_redeploy_and_roll_back(shared_host: DeployHost) -> None:
    host = shared_host
    # Given a host with nothing deployed: there is nothing to roll back to
    never = host.tool("rollback")
    assert never.returncode == 1
    assert "nothing is deployed in " in never.stderr.strip().splitlines()[-1]

    # When the first release is deployed with `make deploy`
    first = host.make("deploy")

    # Then the web server and the Celery worker run it and the app answers on its port
    assert first.returncode == 0, first.stderr
    v1 = release_of(first.stderr)
    states = status_lines(host)
    assert states["current"] == v1
    assert states["previous"] == "-"
    assert "RUNNING" in states["web"]
    assert "RUNNING" in states["worker"]
    assert requests.get(f"{host.url}/healthz", timeout=10).json() == {"status": "ok"}
    assert "seen 1 times" in requests.get(host.url + "/", timeout=10).text
    secrets = host.directory / "shared" / "secrets.env"
    assert secrets.stat().st_mode & 0o077 == 0
    assert "SECRET_KEY=" in secrets.read_text()
    alone = host.tool("rollback")
    assert alone.returncode == 1
    assert alone.stderr.strip().splitlines()[-1] == (
        "deploy: error: rollback: no previous release to roll back to"
    )

    # When a second release is deployed
    second = host.make("deploy")

    # Then it is current, the first is kept as previous and the data carried over
    assert second.returncode == 0, second.stderr
    v2 = release_of(second.stderr)
    assert v2 != v1
    states = status_lines(host)
    assert (states["current"], states["previous"]) == (v2, v1)
    assert "seen 2 times" in requests.get(host.url + "/", timeout=10).text
    assert (host.directory / "current").resolve().name == v2

    # When rolled back
    rolled = host.make("deploy-rollback")

    # Then the first release runs again, and the second is the one to roll forward to
    assert rolled.returncode == 0, rolled.stderr
    states = status_lines(host)
    assert (states["current"], states["previous"]) == (v1, v2)
    assert "RUNNING" in states["web"]
    assert requests.get(f"{host.url}/healthz", timeout=10).status_code == 200
    assert "seen 3 times" in requests.get(host.url + "/", timeout=10).text
    listed = host.make("deploy-releases")
    assert listed.stdout.split() == sorted([v1, v2])


def running_release(host: DeployHost) -> str:
    """The current release of ``host``, deploying one first if it has none running."""
    status = host.tool("status")
    if status.returncode != 0:
        assert host.tool("deploy").returncode == 0
        status = host.tool("status")
    assert status.returncode == 0, status.stdout + status.stderr
    return status.stdout.split("current:", 1)[1].split()[0]


def test_should_leave_the_running_release_alone_when_migration_fails(
    shared_host: DeployHost,
) -> None:
    running = running_release(shared_host)

    failed = shared_host.tool("deploy", DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/x")

    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("deploy: error: deploy: migrate: migrating failed: ")
    assert "Connection refused" in last
    assert f"current: {running}" in shared_host.tool("status").stdout
    assert requests.get(f"{shared_host.url}/healthz", timeout=10).status_code == 200


def test_should_roll_back_by_itself_when_the_new_release_is_unhealthy(
    shared_host: DeployHost,
) -> None:
    running = running_release(shared_host)

    # When the next release cannot serve (its port is taken by another process)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        failed = shared_host.tool("deploy", DEPLOY_PORT=str(taken), DEPLOY_HEALTH_TIMEOUT="15")

    # Then the deploy fails with one line and the previous release serves again
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("deploy: error: deploy: activate: release ")
    assert "is not healthy" in last
    assert f"rolled back to {running}" in last
    assert f"current: {running}" in shared_host.tool("status").stdout
    assert requests.get(f"{shared_host.url}/healthz", timeout=10).status_code == 200


def test_should_stop_start_and_report_status(shared_host: DeployHost) -> None:
    running_release(shared_host)

    stopped = shared_host.tool("stop")
    status = shared_host.tool("status")

    assert stopped.returncode == 0, stopped.stderr
    assert status.returncode == 3
    assert "supervisord: not running" in status.stdout
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{shared_host.url}/healthz", timeout=5)

    started = shared_host.tool("start")

    assert started.returncode == 0, started.stderr
    assert requests.get(f"{shared_host.url}/healthz", timeout=10).status_code == 200
    restarted = shared_host.tool("restart")
    assert restarted.returncode == 0, restarted.stderr
    assert shared_host.tool("status").returncode == 0


def test_should_fail_with_ssh_s_reason_when_the_key_is_refused(shared_host: DeployHost) -> None:
    stranger = keygen(shared_host.root / "stranger")

    done = shared_host.tool("status", DEPLOY_SSH_KEY=str(stranger))

    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "ssh to " in last
    assert "Permission denied (publickey)" in last
