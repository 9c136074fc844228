"""``python -m bot.caseapi.simulator [options] [move CODE STATUS]``."""

from bot.caseapi.simulator.cli import main

raise SystemExit(main())
