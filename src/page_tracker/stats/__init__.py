"""Statistics: dimension tables, rollups written per batch of page views, read queries."""
