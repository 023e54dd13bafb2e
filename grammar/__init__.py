"""The Lark grammar of the .pol language (``pol.lark``)."""
from pathlib import Path

GRAMMAR_PATH = Path(__file__).with_name('pol.lark')


def grammar_text() -> str:
    return GRAMMAR_PATH.read_text(encoding='utf-8')
