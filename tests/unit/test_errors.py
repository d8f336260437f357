import pytest
from flask import Flask

from page_tracker.errors import Conflict, NotFound, ValidationFailed, register_error_handlers


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    register_error_handlers(app)

    @app.get("/api/v1/thing")
    def thing() -> str:
        raise ValidationFailed("bad thing", details={"field": "name"})

    @app.get("/api/v1/conflict")
    def conflict() -> str:
        raise Conflict(error_code=40901)

    @app.get("/api/v1/boom")
    def boom() -> str:
        raise RuntimeError("SELECT secret FROM users")

    @app.get("/html")
    def html() -> str:
        raise NotFound()

    return app


def test_should_answer_api_errors_with_the_json_shape(app: Flask) -> None:
    response = app.test_client().get("/api/v1/thing")
    assert response.status_code == 400
    assert response.json == {
        "code": 400,
        "error_code": 40000,
        "message": "bad thing",
        "details": {"field": "name"},
    }


def test_should_allow_finer_error_codes(app: Flask) -> None:
    response = app.test_client().get("/api/v1/conflict")
    assert response.status_code == 409
    assert response.json is not None
    assert response.json["error_code"] == 40901


def test_should_hide_internal_details_of_unexpected_errors(app: Flask) -> None:
    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json is not None
    assert response.json["code"] == 500
    assert "SELECT" not in response.get_data(as_text=True)


def test_should_answer_json_404_and_405_under_api(app: Flask) -> None:
    client = app.test_client()
    missing = client.get("/api/v1/missing")
    assert missing.status_code == 404
    assert missing.json is not None
    assert missing.json["error_code"] == 40400
    wrong_method = client.delete("/api/v1/thing")
    assert wrong_method.status_code == 405
    assert wrong_method.json is not None
    assert wrong_method.json["code"] == 405
    assert "GET" in wrong_method.headers["Allow"]


def test_should_answer_json_404_elsewhere_only_when_asked(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/nowhere").content_type.startswith("text/html")
    as_json = client.get("/nowhere", headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json is not None
    assert as_json.json["code"] == 404
