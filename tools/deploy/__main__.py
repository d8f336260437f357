"""``python -m tools.deploy``."""

from tools.deploy.cli import main

raise SystemExit(main())
