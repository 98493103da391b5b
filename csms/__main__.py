"""`python -m csms` runs the command-line interface."""

from csms.cli import main

raise SystemExit(main())
