"""Imports of other trackers' history (GoatCounter, Plausible, Busuanzi, our own export)
and exports of a site's statistics. See :mod:`.services` for the semantics."""
