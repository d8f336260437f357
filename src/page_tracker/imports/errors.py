"""What an import refuses: one clear error each, which the CLI prints as one line.

They are API errors (:class:`~page_tracker.errors.ValidationFailed`, ``Conflict``), so
the import endpoint answers them with the JSON error shape unchanged.
"""

from __future__ import annotations

from page_tracker.errors import Conflict, NotFound, ValidationFailed


class BadInput(ValidationFailed):
    """The input is not what its format says: names the file, line and column."""

    def __init__(self, file: str, line: int | None, column: str | None, problem: str) -> None:
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(
            f"{where}: {problem}",
            details={"file": file, "line": line, "column": column, "problem": problem},
        )
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem


class AlreadyImported(Conflict):
    """The same content was imported into the site before (``--replace`` redoes it)."""


class ImportRunning(Conflict):
    """The import is running: a live runner holds its lease (it may be deleted or resumed
    once it is done or abandoned)."""


class LeaseLost(Conflict):
    """The run's row was taken over or deleted while it stalled: it stops, writing nothing."""


class NoSuchImport(NotFound):
    """No import with that id (for that site)."""
