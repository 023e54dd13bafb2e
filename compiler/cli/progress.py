"""Progress of long commands on standard error: click's progress bar (percent, rate, ETA), shown
only when standard error is a terminal, so pipes, files and tests see nothing of it."""
from __future__ import annotations

import sys
import time
from typing import Optional

import click

STEPS = 1000


def on_terminal(file=None) -> bool:
    try:
        return (file or sys.stderr).isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A bar over a fraction 0…1 with an optional count of things done (rows, cases, mutants):
    ``update(fraction, done)``; ``close()`` ends the line.  Does nothing off a terminal."""

    def __init__(self, label: str, unit: str = '行', file=None):
        self.unit = unit
        file = file or sys.stderr
        self.shown = on_terminal(file)
        self.started = time.monotonic()
        self.done = 0
        self.pos = 0
        self.bar = None
        if self.shown:
            self.bar = click.progressbar(length=STEPS, label=label, file=file, show_eta=True,
                                         show_percent=True, width=24, item_show_func=self._rate)
            self.bar.__enter__()

    def _rate(self, _item) -> Optional[str]:
        if not self.done:
            return None
        seconds = time.monotonic() - self.started
        rate = self.done / seconds if seconds > 0 else 0
        return f'{self.done:,} {self.unit}，每秒 {rate:,.0f} {self.unit}'

    def update(self, fraction: float, done: Optional[int] = None) -> None:
        if self.bar is None:
            return
        if done is not None:
            self.done = done
        pos = max(0, min(STEPS, int(fraction * STEPS)))
        if pos > self.pos:
            self.bar.update(pos - self.pos, self.done)
            self.pos = pos
        else:
            self.bar.update(0, self.done)

    def rows(self, rows: int, fraction: float) -> None:
        """The per-row engine's callback: (rows so far, fraction of the input read)."""
        self.update(fraction, rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
