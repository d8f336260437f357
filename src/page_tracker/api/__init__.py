"""The REST API for site owners (``/api/v1``): sites, members, users, OpenAPI."""
