"""Syntax-error recovery: report every syntax error of a file, then check the parts that parsed.

On a syntax error the statement that holds it is blanked out (replaced by spaces, keeping every
newline, so all positions stay those of the file) and the text is parsed again; this repeats
until the rest parses.  A *statement* starts at a line whose first word is a keyword that begins
one (输入, 条款, 项, 条件, 金额, 案例, 期望 …, simplified or traditional) and runs to the next such
line, so a multi-line 分档（…） is one statement.  An error on a 项 line blanks the whole item,
and one on a declaration line (条款, 案例, 输入 …) the whole declaration, so that what is left
does not attach properties to the wrong owner.
"""
from __future__ import annotations

import re

from polc.dsl.keywords import SPELLING_TO_TYPE

# keywords that begin a statement, by level: 0 declaration/header, 1 item, 2 property
_LEVEL0 = {'_ZHENGCE', '_FAWEN', '_WENHAO', '_YINFA', '_SHIXING', '_YOUXIAOZHI', '_YOUXIAOQI', '_TONGJI',
           '_ZUHE', '_BILI_SHANGXIAN', '_ZHUANGTAI', '_GONGTONG', '_LAIYUAN', '_TIAOKUAN', '_ZU', '_ANLI',
           '_BAOZHENG', '_DINGYI'}
_LEVEL1 = {'_XIANG'}
_LEVEL2 = {'_QIANTOU', '_ZEREN', '_YUANWEN', '_JIEDU', '_LEIBIE', '_TIAOJIAN', '_JINE', '_MINGE', '_ZONGE',
           '_FENPEI', '_RIQI', '_SHURU', '_QIWANG'}
_FIRST_WORD = re.compile(r'[ \t\u3000]*([A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)')

MAX_ERRORS = 100


def _level(line: str) -> int | None:
    m = _FIRST_WORD.match(line)
    if not m:
        return None
    t = SPELLING_TO_TYPE.get(m.group(1))
    if t in _LEVEL0:
        return 0
    if t in _LEVEL1:
        return 1
    if t == '_SHURU':              # 输入 X：… declares an input; 输入：… lists a case's facts
        return 2 if line[m.end():].lstrip(' \t\u3000')[:1] in (':', '：') else 0
    if t in _LEVEL2:
        return 2
    if t is None and line[m.end():].lstrip(' \t\u3000')[:1] == ':':
        return 2                   # 条仵：… — a misspelt property keyword is still a property line
    return None


def statements(text: str) -> list[tuple[int, int, int]]:
    """(start offset, end offset, level) of every statement, in order."""
    out: list[tuple[int, int, int]] = []
    pos = 0
    for line in text.split('\n'):
        lvl = _level(line)
        if lvl is not None or not out:
            out.append((pos, pos, 0 if lvl is None else lvl))
        start, _e, l0 = out[-1]
        out[-1] = (start, pos + len(line), l0)
        pos += len(line) + 1
    return out


def blank_unit(text: str, pos: int) -> tuple[int, int]:
    """The span to blank for an error at offset ``pos``: its statement, or the whole item or
    declaration when the error is on the line that begins one."""
    stmts = statements(text)
    if not stmts:
        return 0, len(text)
    i = 0
    for k, (s, _e, _l) in enumerate(stmts):
        if s <= pos:
            i = k
    # an error in blank space after a statement belongs to that statement
    while i > 0 and not text[stmts[i][0]:stmts[i][1]].strip():
        i -= 1
    start, end, lvl = stmts[i]
    if lvl < 2:
        j = i + 1
        while j < len(stmts) and stmts[j][2] > lvl:
            end = stmts[j][1]
            j += 1
    return start, end


def blank(text: str, start: int, end: int) -> str:
    """``text`` with [start, end) replaced by spaces (newlines kept)."""
    return text[:start] + re.sub(r'[^\n]', ' ', text[start:end]) + text[end:]
