"""Files uploaded to the import endpoint, kept until their job ends.

Each upload gets a directory of its own under ``IMPORT_DIR`` (a random name, so two
uploads of one file name never meet) holding the file under its own, cleaned name:
the importers name the file in their errors and in ``imports list``. The directory is
removed when the job ends, whichever way it ends. In Redis mode the web process writes
it and a worker reads it: ``IMPORT_DIR`` must be shared between them.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import IO

from werkzeug.utils import secure_filename

from page_tracker.errors import PayloadTooLarge

BLOCK = 1 << 20
_FALLBACK_NAME = "upload"


def clean_name(name: str | None) -> str:
    """A file name safe to create (no directories, no dots first, ASCII), at most 200
    characters; ``upload`` when nothing is left."""
    cleaned = secure_filename(name or "")[-200:].lstrip(".")
    return cleaned or _FALLBACK_NAME


def store(root: Path, name: str | None, stream: IO[bytes], limit: int) -> tuple[str, int]:
    """Copy ``stream`` into a new directory under ``root``; returns the file's path
    relative to ``root`` and its size. More than ``limit`` bytes is
    :class:`PayloadTooLarge`, and nothing stays behind."""
    folder = root / secrets.token_hex(16)
    folder.mkdir(parents=True, mode=0o700)
    target = folder / clean_name(name)
    size = 0
    try:
        with target.open("wb") as out:
            while block := stream.read(BLOCK):
                size += len(block)
                if size > limit:
                    raise PayloadTooLarge(f"an import file has at most {limit} bytes")
                out.write(block)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target.relative_to(root).as_posix(), size


def path_of(root: Path, upload: str) -> Path:
    """Where a stored upload is (``upload`` as :func:`store` returned it)."""
    return root / upload


def remove(root: Path, upload: str) -> None:
    """Remove a stored upload and its directory (gone already: nothing to do)."""
    folder = (root / upload).parent
    if folder != root and folder.parent == root:
        shutil.rmtree(folder, ignore_errors=True)
