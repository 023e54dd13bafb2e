"""The portable query in other SQL dialects (Spark, Trino, PostgreSQL, BigQuery …), rewritten by
sqlglot."""
from __future__ import annotations

from polc.compiler.sql.generate import SqlUnsupported


class UnknownDialect(SqlUnsupported):
    """A dialect name sqlglot does not know."""


def to_dialect(query: str, dialect: str) -> str:
    """The query in another SQL dialect, rewritten by sqlglot (DuckDB's text is returned as is)."""
    if dialect == 'duckdb':
        return query
    try:
        import sqlglot
        from sqlglot.errors import ParseError, UnsupportedError
    except ImportError:
        raise SqlUnsupported("转写为其他 SQL 方言需要 sqlglot：pip install 'polc[batch]'") from None
    try:
        return sqlglot.transpile(query, read='duckdb', write=dialect, pretty=True,
                                 unsupported_level=sqlglot.ErrorLevel.RAISE)[0]
    except (ParseError, UnsupportedError) as exc:
        raise SqlUnsupported(f'无法转写为 {dialect}：{exc}') from None
    except ValueError as exc:           # an unknown dialect name
        raise UnknownDialect(f'未知的 SQL 方言「{dialect}」（{exc}）') from None
