"""`python -m bot` does what the `zhibu` command does."""

from bot.cli import main

raise SystemExit(main())
