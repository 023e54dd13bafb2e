"""What every part of the SQL back end shares: the money type, the outcome codes inside a query,
quoting, and the refusal :class:`SqlUnsupported`."""
from __future__ import annotations

from polc.compiler.python import runtime as R

MONEY = 'DECIMAL(38, 2)'        # the type of every amount in the output
# outcomes are small integers inside the query and named only in the final SELECT
CODES = R.OUTCOME_CODES
TRUE, FALSE = 'TRUE', 'FALSE'


class SqlUnsupported(Exception):
    """A construct that cannot be computed exactly in portable SQL (message in Chinese)."""


def quote(name: str) -> str:
    """A quoted SQL identifier (Chinese names, dots and quotes are all fine)."""
    return '"' + name.replace('"', '""') + '"'


def string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
