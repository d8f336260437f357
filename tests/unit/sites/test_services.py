"""Site ids and host names, the parts of the sites feature that need no database."""

import pytest

from page_tracker.errors import ValidationFailed
from page_tracker.sites.services import new_site_id, normalise_host


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Example.COM", "example.com"), ("example.com.", "example.com"), ("a.b:8080", "a.b")],
)
def test_should_normalise_host_names(given: str, expected: str) -> None:
    assert normalise_host(given) == expected


@pytest.mark.parametrize("given", ["", "bad host", "-a.com", "[::1]", "a" * 300, "x..y"])
def test_should_refuse_invalid_host_names(given: str) -> None:
    with pytest.raises(ValidationFailed):
        normalise_host(given)


def test_should_make_random_twelve_character_site_ids() -> None:
    ids = {new_site_id() for _ in range(50)}
    assert len(ids) == 50
    assert all((len(i) == 12 and i.isalnum() and i.islower()) or i.isdigit() for i in ids)
