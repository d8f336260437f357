"""What the import endpoint takes (a form beside the file) and answers (a job's status);
the OpenAPI schemas too."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from page_tracker.json_api import UtcDatetime

Source = Literal["goatcounter", "plausible", "busuanzi"]
State = Literal["queued", "running", "done", "failed"]
_COUNT = 2**53  # what JSON numbers hold exactly


class ImportForm(BaseModel):
    """The text fields sent with the file (``multipart/form-data``)."""

    model_config = ConfigDict(extra="forbid")

    source: Source = Field(
        description="The file's format: GoatCounter's CSV export (plain or .gz), "
        "Plausible's export zip, or Busuanzi counts (url,page_pv[,page_uv])."
    )
    replace: bool = Field(
        default=False, description="Take out an earlier import of the same content first."
    )
    skip_bad_rows: bool = Field(
        default=False, description="Leave malformed rows out and report them instead of failing."
    )
    site_pv: int | None = Field(
        default=None, ge=0, lt=_COUNT, description="Busuanzi: the site's total views."
    )
    site_uv: int | None = Field(
        default=None, ge=0, lt=_COUNT, description="Busuanzi: the site's total visitors."
    )


class ImportProblem(BaseModel):
    """Where the input is wrong: the file (a zip's member), line and column."""

    file: str
    line: int | None
    column: str | None
    problem: str
    message: str = Field(description="All of it in one line.")


class ImportOut(BaseModel):
    """An uploaded import and what became of it."""

    id: int
    site_id: str
    source: Source
    name: str = Field(description="The uploaded file's name.")
    state: State = Field(
        description="queued, running, then done or failed (also a running import whose "
        "process stopped: abandoned)."
    )
    abandoned: bool = Field(
        default=False,
        description="Failed because the process running it stopped: no heartbeat within "
        "IMPORT_LEASE_SECONDS. It can be deleted (what it imported is taken out) or its "
        "file uploaded again to resume.",
    )
    replace: bool
    skip_bad_rows: bool
    size: int = Field(description="The uploaded file's bytes.")
    rows: int = Field(description="Rows read so far (all of them once done).")
    rows_skipped: int = Field(description="Malformed rows left out (skip_bad_rows).")
    pageviews: int = Field(description="Page views imported.")
    progress: float | None = Field(
        description="0 to 1 while running when the format tells (bytes read), 1 when done."
    )
    errors: list[ImportProblem] = Field(
        description="Failed: what stopped it. Done with skip_bad_rows: the rows left out "
        "(the first 20)."
    )
    import_id: int | None = Field(
        description="The import it made (page-tracker imports list shows it too)."
    )
    replaced: int | None = Field(description="The earlier import that replace took out.")
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None


class ImportList(RootModel[list[ImportOut]]):
    pass
