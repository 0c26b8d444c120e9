"""`python -m bot`: the Slack bot (see bot.runner)."""

import sys

from bot.runner import main

sys.exit(main())
