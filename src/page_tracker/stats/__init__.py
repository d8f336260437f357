"""Statistics: the rollup tables, the one write path (:func:`page_tracker.stats.rollup.
apply`), all-time counters, read-side queries, public counters and badges, and purges."""
