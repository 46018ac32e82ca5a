"""`python -m styx`: the same as the `styx` command."""

from __future__ import annotations

from styx.cli import main

main()
