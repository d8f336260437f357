"""The seed page: ``GET /`` counts ``page_views`` in a counter store."""
