"""The release commands of seed 003's ``docker.sh`` and their pipelines.

Each command first checks everything it needs (variables, the build record, the local
image) and only then touches docker, so a misconfigured run changes nothing. Images move
between registries only by tag: ``tag-prod`` re-tags the exact build that was pushed to
development, so production gets the same bytes that were tested.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from tools.release.docker import DockerCli
from tools.release.errors import ReleaseError
from tools.release.settings import PROJECT_ROOT, ReleaseSettings
from tools.release.state import BuildRecord, new_version, read_record, source_info, write_record

LATEST = "latest"


@dataclass
class Release:
    """One invocation: settings, a docker CLI and where progress lines go."""

    settings: ReleaseSettings
    docker: DockerCli = field(default_factory=DockerCli)
    out: TextIO = field(default_factory=lambda: sys.stderr)
    no_cache: bool = False
    run_options: Sequence[str] = ()
    run_command: Sequence[str] = ()

    def _say(self, message: str) -> None:
        print(f"release: {message}", file=self.out, flush=True)

    # -- preconditions ---------------------------------------------------------------
    def _record(self) -> BuildRecord:
        """The recorded build, checked against the image name asked for, if any."""
        record = read_record(self.settings.state_dir)
        if record is None:
            raise ReleaseError(f"no build recorded in {self.settings.state_dir}: run `build` first")
        if self.settings.image_name_given and record.image != self.settings.image:
            raise ReleaseError(
                f"the recorded build is {record.image}, not {self.settings.image}: "
                "run `build` for that image first"
            )
        return record

    def _local(self, ref: str) -> str:
        if not self.docker.image_exists(ref):
            raise ReleaseError(f"image {ref} is not in the local docker engine: run `build` first")
        return ref

    # -- commands --------------------------------------------------------------------
    def build(self) -> BuildRecord:
        """Build the image with a new unique tag and record it."""
        registry = self.settings.require_registry()
        dockerfile = self.settings.dockerfile
        if not dockerfile.is_file():
            raise ReleaseError(
                f"no Dockerfile at {dockerfile} (set BUILD_DOCKERFILE or --dockerfile)"
            )
        info = source_info(PROJECT_ROOT)
        record = BuildRecord(image=self.settings.image, version=new_version(info))
        ref = record.ref(registry)
        self._say(f"building {ref}")
        self.docker.build(
            context=self.settings.context,
            dockerfile=self.settings.dockerfile,
            tag=ref,
            build_args={
                "VERSION": record.version,
                "REVISION": info.revision,
                "SOURCE": info.source,
            },
            no_cache=self.no_cache,
        )
        write_record(self.settings.state_dir, record)
        self._say(f"built {ref} (recorded in {self.settings.state_dir}/.docker_build_version)")
        return record

    def build_when_necessary(self) -> None:
        """Build only when no build is recorded yet (the pipelines' first step)."""
        if read_record(self.settings.state_dir) is None:
            self.build()
        else:
            self._say(f"using the recorded build {self._record().version}")

    def run(self) -> None:
        """Run the recorded build in the foreground (``docker run --rm``)."""
        registry = self.settings.require_registry()
        ref = self._local(self._record().ref(registry))
        self._say(f"running {ref}")
        self.docker.run(ref, self.run_options, self.run_command)

    def push(self) -> None:
        """Push the recorded build's unique tag to the development registry."""
        self._push_dev(tag=None)

    def tag_latest(self) -> None:
        """Tag the recorded build ``latest`` in the development registry's namespace."""
        registry = self.settings.require_registry()
        record = self._record()
        self._tag(record.ref(registry), record.ref(registry, LATEST))

    def push_latest(self) -> None:
        """Push the development ``latest`` tag."""
        self._push_dev(tag=LATEST)

    def tag_prod(self) -> None:
        """Tag the recorded build for the production registry (same unique tag)."""
        registry = self.settings.require_registry()
        prod = self.settings.require_registry_prod()
        record = self._record()
        self._tag(record.ref(registry), record.ref(prod))

    def push_prod(self) -> None:
        """Push the unique tag to the production registry."""
        self._push_prod(tag=None)

    def tag_prod_latest(self) -> None:
        """Tag the recorded build ``latest`` for the production registry."""
        registry = self.settings.require_registry()
        prod = self.settings.require_registry_prod()
        record = self._record()
        self._tag(record.ref(registry), record.ref(prod, LATEST))

    def push_prod_latest(self) -> None:
        """Push the production ``latest`` tag."""
        self._push_prod(tag=LATEST)

    def show(self) -> None:
        """Print the recorded build's reference (stdout, for scripts)."""
        record = self._record()
        registry = self.settings.registry or "<DOCKER_REGISTRY>"
        print(record.ref(registry))

    # -- shared steps ----------------------------------------------------------------
    def _tag(self, source: str, target: str) -> None:
        self.docker.tag(self._local(source), target)
        self._say(f"tagged {target}")

    def _push_dev(self, tag: str | None) -> None:
        login = self.settings.require_registry_login()
        ref = self._local(self._record().ref(login.host, tag))
        self.docker.login(login)
        self.docker.push(ref)
        self._say(f"pushed {ref}")

    def _push_prod(self, tag: str | None) -> None:
        self.settings.require_registry()
        login = self.settings.require_registry_prod_login()
        ref = self._local(self._record().ref(login.host, tag))
        self.docker.login(login)
        self.docker.push(ref)
        self._say(f"pushed {ref}")


Step = Callable[[Release], None]

_DEV: tuple[Step, ...] = (Release.push, Release.tag_latest, Release.push_latest)
_PROD: tuple[Step, ...] = (
    Release.tag_prod,
    Release.push_prod,
    Release.tag_prod_latest,
    Release.push_prod_latest,
)


def _rebuild(release: Release) -> None:
    release.build()


#: command name -> (help line, steps run in order)
COMMANDS: dict[str, tuple[str, tuple[Step, ...]]] = {
    "build": ("build the image with a new unique tag and record it", (_rebuild,)),
    "run": ("run the recorded build (docker run --rm)", (Release.run,)),
    "push": ("push the recorded build to DOCKER_REGISTRY", (Release.push,)),
    "tag-latest": ("tag the recorded build as latest", (Release.tag_latest,)),
    "push-latest": ("push the latest tag to DOCKER_REGISTRY", (Release.push_latest,)),
    "tag-prod": ("tag the recorded build for DOCKER_REGISTRY_PROD", (Release.tag_prod,)),
    "push-prod": ("push the recorded build to DOCKER_REGISTRY_PROD", (Release.push_prod,)),
    "tag-prod-latest": ("tag the recorded build as production latest", (Release.tag_prod_latest,)),
    "push-prod-latest": ("push the production latest tag", (Release.push_prod_latest,)),
    "pipeline": (
        "build if needed, push, tag-latest, push-latest",
        (Release.build_when_necessary, *_DEV),
    ),
    "pipeline-prod": (
        "build if needed, tag-prod, push-prod, tag-prod-latest, push-prod-latest",
        (Release.build_when_necessary, *_PROD),
    ),
    "pipeline-all": ("pipeline, then pipeline-prod", (Release.build_when_necessary, *_DEV, *_PROD)),
    "pipeline-rebuild": ("pipeline with a fresh build", (_rebuild, *_DEV)),
    "pipeline-prod-rebuild": ("pipeline-prod with a fresh build", (_rebuild, *_PROD)),
    "pipeline-all-rebuild": ("pipeline-all with a fresh build", (_rebuild, *_DEV, *_PROD)),
    "show": ("print the recorded build's image reference", (Release.show,)),
}


def check_pipeline(release: Release, name: str) -> None:
    """Fail before the first step when a later step of ``name`` lacks a variable.

    A pipeline that would build for minutes and then stop at ``push-prod`` for want of
    ``DOCKER_REGISTRY_PROD_PASS`` wastes the build; check all variables up front.
    """
    steps = COMMANDS[name][1]
    settings = release.settings
    settings.require_registry()
    if any(step in _DEV for step in steps):
        settings.require_registry_login()
    if any(step in _PROD for step in steps):
        settings.require_registry_prod_login()


def execute(release: Release, name: str) -> None:
    """Run command ``name``: its precondition checks, then its steps in order."""
    if name.startswith("pipeline"):
        check_pipeline(release, name)
    for step in COMMANDS[name][1]:
        step(release)
