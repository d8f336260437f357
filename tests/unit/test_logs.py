import logging
import logging.config
import time
from pathlib import Path

from flask import Flask
from granian.log import log_request_builder

from page_tracker.logs import (
    GRANIAN_ACCESS_FORMAT,
    PrivateAccessFilter,
    RequestIdFilter,
    configure_logging,
    init_request_ids,
    load_logging_config,
    private_address,
    private_addresses,
    private_request_line,
    private_url,
    private_user_agent,
)
from page_tracker.redaction import RedactSecretsFilter


def make_record(name: str = "page_tracker.test", args: object = ()) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, "hello", args, None)  # type: ignore[arg-type]


def test_should_mark_lines_outside_a_request_with_a_dash() -> None:
    record = make_record()
    assert RequestIdFilter().filter(record)
    assert record.request_id == "-"  # type: ignore[attr-defined]


def test_should_take_the_request_id_of_the_current_request() -> None:
    app = Flask(__name__)
    init_request_ids(app)
    with app.test_request_context("/", headers={"X-Request-ID": "abc-123"}):
        app.preprocess_request()
        record = make_record()
        RequestIdFilter().filter(record)
    assert record.request_id == "abc-123"  # type: ignore[attr-defined]


def test_should_replace_an_unsafe_incoming_request_id() -> None:
    app = Flask(__name__)
    init_request_ids(app)

    @app.get("/")
    def index() -> str:
        return "ok"

    response = app.test_client().get("/", headers={"X-Request-ID": "evil id; DROP"})
    assert response.headers["X-Request-ID"] != "evil id; DROP"
    assert len(response.headers["X-Request-ID"]) == 32


def test_should_read_gunicorn_access_request_id_from_the_response_header() -> None:
    record = make_record("gunicorn.access", args=({"{x-request-id}o": "rid-9"},))
    RequestIdFilter().filter(record)
    assert record.request_id == "rid-9"  # type: ignore[attr-defined]


def test_should_substitute_log_dir_in_the_packaged_config(tmp_path: Path) -> None:
    config = load_logging_config(None, tmp_path, "DEBUG")
    assert config["handlers"]["file"]["filename"] == f"{tmp_path.as_posix()}/page-tracker.log"
    assert config["handlers"]["error_file"]["level"] == "ERROR"
    assert config["loggers"]["page_tracker"]["level"] == "DEBUG"


def test_should_honour_a_custom_yaml_config(tmp_path: Path) -> None:
    custom = tmp_path / "logging.yaml"
    custom.write_text("version: 1\nroot:\n  level: WARNING\n")
    config = load_logging_config(custom, tmp_path)
    assert config["version"] == 1
    assert config["root"] == {"level": "WARNING"}


def test_should_put_the_secrets_filter_on_every_handler_of_a_custom_config(
    tmp_path: Path,
) -> None:
    custom = tmp_path / "logging.yaml"
    custom.write_text(
        "version: 1\nhandlers:\n  out:\n    class: logging.StreamHandler\n"
        "  own:\n    class: logging.StreamHandler\n    filters: [mine]\n"
        "filters:\n  mine:\n    (): logging.Filter\n"
    )
    config = load_logging_config(custom, tmp_path)
    assert config["handlers"]["out"]["filters"] == ["redact_secrets"]
    assert config["handlers"]["own"]["filters"] == ["redact_secrets", "mine"]
    assert config["filters"]["redact_secrets"]["()"] is RedactSecretsFilter


def test_should_write_errors_to_the_error_file(tmp_path: Path) -> None:
    configure_logging(None, tmp_path / "logs")
    logging.getLogger("page_tracker.test").info("just info")
    logging.getLogger("page_tracker.test").error("broken thing")
    for handler in logging.getLogger().handlers:
        handler.flush()
    errors = (tmp_path / "logs" / "error.log").read_text()
    everything = (tmp_path / "logs" / "page-tracker.log").read_text()
    assert "broken thing" in errors
    assert "just info" not in errors
    assert "just info" in everything
    # Detach the file handlers without disabling the loggers later tests log through.
    logging.config.dictConfig(
        {"version": 1, "disable_existing_loggers": False, "root": {"handlers": []}}
    )


def test_should_cut_addresses_to_their_networks() -> None:
    assert private_addresses("198.51.100.7, 2001:db8:1234:5678::1") == (
        "198.51.100.0/24, 2001:db8:1234::/48"
    )
    assert private_address("::ffff:10.1.2.3") == "10.1.2.0/24"
    assert private_address("reader.example.com") == "-"
    assert private_address(private_address("198.51.100.7")) == "198.51.100.0/24"


def test_should_drop_query_strings_and_user_info_from_urls() -> None:
    assert private_url("https://me:pw@example.com/a?q=1#f") == "https://example.com/a"
    assert private_request_line("GET /count.gif?url=x HTTP/1.1") == "GET /count.gif HTTP/1.1"
    assert private_request_line("GET /?jsonpCallback=cb") == "GET /"


def test_should_keep_only_product_names_of_a_user_agent() -> None:
    agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Version/17.4 Mobile/15E148"
    assert private_user_agent(agent) == "Mozilla/5 Version/17 Mobile/15"


def test_should_make_granian_access_records_private_unless_full() -> None:
    atoms = {"addr": "203.0.113.9", "path": "/count.gif", "query_string": "url=secret"}
    record = make_record("granian.access", args=(dict(atoms),))
    assert PrivateAccessFilter().filter(record)
    assert record.args == {"addr": "203.0.113.0/24", "path": "/count.gif", "query_string": ""}
    full = make_record("granian.access", args=(dict(atoms),))
    PrivateAccessFilter(full=True).filter(full)
    assert full.args == {**atoms, "query_string": "?url=secret"}  # joined to the path


def test_should_filter_access_lines_in_the_packaged_config(tmp_path: Path) -> None:
    config = load_logging_config(None, tmp_path)
    for logger in ("gunicorn.access", "granian.access"):
        assert "private_access" in config["loggers"][logger]["filters"]
    assert config["filters"]["private_access"]["full"] is False
    assert load_logging_config(None, tmp_path, full_access=True)["filters"]["private_access"][
        "full"
    ]


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def granian_access_record(request_id: str, query: str = "token=s3cret") -> logging.LogRecord:
    """The access record granian's own builder makes for ``GRANIAN_ACCESS_FORMAT``."""
    headers = {
        "x-forwarded-for": "203.0.113.77",
        "referer": "https://s.example/?q=private",
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "x-request-id": request_id,
    }
    request = {
        "addr_remote": "127.0.0.1",
        "path": "/count.gif",
        "qs": query,
        "method": "GET",
        "scheme": "http",
        "protocol": "HTTP/1.1",
        "headers": headers.get,
    }
    logger = logging.getLogger("granian.access")
    captured, handlers, filters = Captured(), logger.handlers, logger.filters
    # Only the raw record: the tests apply the filters themselves, and no handler another
    # test configured opens its file.
    logger.handlers, logger.filters = [captured], []
    try:
        log_request_builder(GRANIAN_ACCESS_FORMAT)(time.time(), time.perf_counter(), request, 200)
    finally:
        logger.handlers, logger.filters = handlers, filters
    (record,) = captured.records
    return record


def test_should_put_a_safe_granian_request_id_in_the_prefix_once_for_every_handler() -> None:
    record = granian_access_record("rid-7")

    assert PrivateAccessFilter().filter(record)
    for _handler in ("console", "access_file"):  # each handler runs the filter again
        assert RequestIdFilter().filter(record)
        assert record.request_id == "rid-7"  # type: ignore[attr-defined]
    line = record.getMessage()

    assert line == (
        '127.0.0.0/24 203.0.113.0/24 "GET /count.gif HTTP/1.1" 200 '
        + line.split(" 200 ")[1].split("ms ")[0]
        + 'ms "https://s.example/" "Mozilla/5 Gecko/201001 Firefox/133"'
    )


def test_should_not_log_an_unsafe_granian_request_id() -> None:
    record = granian_access_record("evil id\x1b[2J; DROP")

    RequestIdFilter().filter(record)

    assert record.request_id == "-"  # type: ignore[attr-defined]
    assert "evil" not in record.getMessage()


def test_should_keep_the_query_in_full_granian_access_lines() -> None:
    record = granian_access_record("-")

    PrivateAccessFilter(full=True).filter(record)
    RequestIdFilter().filter(record)

    assert '"GET /count.gif?token=s3cret HTTP/1.1"' in record.getMessage()
