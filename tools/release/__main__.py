"""``python -m tools.release``."""

from tools.release.cli import main

raise SystemExit(main())
