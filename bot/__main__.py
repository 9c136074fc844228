"""``python -m bot`` is the ``motcua`` command."""

import sys

from bot.cli import main

sys.exit(main())
