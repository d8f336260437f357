"""Between the hit path and the statistics: group commit, and in Redis mode the stream of
written batches and its flush into the rollups. Which sink and counter reader an app
gets is decided in :mod:`page_tracker.buffer.feature`."""
