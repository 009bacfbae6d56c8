"""`python -m bot` is the same as `innobridge`."""

import sys

from bot.cli import main

sys.exit(main())
