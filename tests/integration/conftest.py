import pytest

# Every test in this folder talks to real servers; none may hang CI.
pytestmark = [pytest.mark.integration]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.timeout(60))
