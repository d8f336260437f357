"""Drop-in compatibility with other trackers' wire formats: Busuanzi (不蒜子) counters and
Plausible's event API. Both feed the same ingest pipeline as page-tracker's own endpoints
(:func:`page_tracker.ingest.verdict.process`, the hit sink and the counter reader)."""
