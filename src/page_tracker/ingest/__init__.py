"""The hit path: the ingest routes (Flask views and the lean WSGI path in front of Flask),
parsing, the verdict on each hit, the daily salts, and handing accepted views to the
buffer (:func:`page_tracker.ingest.record.record`)."""
