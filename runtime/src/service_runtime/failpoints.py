"""Crash points for the tests that prove nothing is lost when a process dies.

`WSE_FAILPOINTS=relay.after_publish` makes the process SIGKILL itself at that point, exactly
as a power cut would. Unset in every real deployment; a failpoint that is not named costs one
set lookup.
"""

from __future__ import annotations

import os
import signal
import sys

_ACTIVE = frozenset(filter(None, os.environ.get("WSE_FAILPOINTS", "").split(",")))


def failpoint(name: str) -> None:
    if name in _ACTIVE:
        sys.stdout.write(f'{{"event": "failpoint reached, killing process", "failpoint": "{name}"}}\n')
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
