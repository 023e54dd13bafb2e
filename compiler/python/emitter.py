"""A small indenting emitter of Python source lines."""
from __future__ import annotations


class Emitter:
    """Lines of Python with indentation."""

    def __init__(self):
        self.lines: list[str] = []
        self.level = 0

    def line(self, text: str = '') -> None:
        self.lines.append('    ' * self.level + text if text else '')

    def indent(self):
        emitter = self

        class _Block:
            def __enter__(self):
                emitter.level += 1

            def __exit__(self, *exc):
                emitter.level -= 1
        return _Block()

    def source(self) -> str:
        return '\n'.join(self.lines) + '\n'
