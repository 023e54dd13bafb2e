"""``polc fmt``: one canonical layout for .pol files.

The layout is printed from the AST (so parse(fmt(x)) == parse(x)); comments are
re-attached by source line: a comment alone on its line goes before the next
printed line that comes from at or after it, a comment after code stays at the
end of the printed line that comes from its source line.  Declarations keep
their written order.  Keywords are written in the file's own script: a file
that mostly uses traditional spellings (條款、金額 …) keeps them.
Punctuation is the full-width Chinese style: ：，、（）；.
"""
from __future__ import annotations

import re
from typing import Optional

from . import ast as A
from .keywords import KEYWORDS, SPELLING_TO_TYPE
from .script import uses_traditional
from .text import display_width, normalize

_NAME_RE = re.compile(r'^[A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+$')

INDENT = '  '


def find_comments(source: str) -> list[tuple[int, int, str, bool, bool]]:
    """(line, col, text, alone_on_line, blank_line_after) of every # comment outside strings
    and 「」 names."""
    out = []
    norm = normalize(source)
    line, col = 1, 0
    i, n = 0, len(norm)
    in_str = in_q = False
    line_has_code = False
    while i < n:
        ch = norm[i]
        if ch == '\n':
            line, col, line_has_code = line + 1, 0, False
            in_q = False
            i += 1
            continue
        col += 1
        if in_str:
            if ch == '\\':
                i += 2
                col += 1
                continue
            if ch == '"':
                in_str = False
        elif in_q:
            if ch == '」':
                in_q = False
        elif ch == '"':
            in_str, line_has_code = True, True
        elif ch == '「':
            in_q, line_has_code = True, True
        elif ch == '#':
            end = norm.find('\n', i)
            end = n if end < 0 else end
            nxt_end = norm.find('\n', end + 1)
            nxt = norm[end + 1: nxt_end if nxt_end >= 0 else n] if end < n else ''
            out.append((line, col, source[i:end].rstrip(), not line_has_code,
                        end < n and not nxt.strip()))
            col += end - i - 1
            i = end
            continue
        elif not ch.isspace():
            line_has_code = True
        i += 1
    return out


class _Printer:
    def __init__(self, policy: A.Policy, source: str):
        self.p = policy
        self.source = source
        self.trad = uses_traditional(source)
        self.lines: list[tuple[str, Optional[int]]] = []

    # ---------------------------------------------------------------- words
    def kw(self, simplified: str) -> str:
        t = SPELLING_TO_TYPE.get(simplified)
        if self.trad and t in KEYWORDS and len(KEYWORDS[t]) > 1:
            return KEYWORDS[t][1]
        if self.trad and t in ('LEGAL_WORD', 'POSTFIX'):
            return _TRAD_WORDS.get(simplified, simplified)
        return simplified

    def word(self, w: str) -> str:
        """A comparison word as written, in the file's script."""
        return w

    @staticmethod
    def name(text: str) -> str:
        if _NAME_RE.match(text) and text not in SPELLING_TO_TYPE:
            return text
        return '「' + text + '」'

    @staticmethod
    def string(text: str) -> str:
        return '"' + text.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') \
            .replace('\t', '\\t') + '"'

    def text(self, text: str) -> str:
        return text if (_NAME_RE.match(text) and text not in SPELLING_TO_TYPE) else self.string(text)

    def emit(self, text: str, line: Optional[int], level: int = 0) -> None:
        self.lines.append((INDENT * level + text if text else '', line))

    # ---------------------------------------------------------------- expressions
    def expr(self, e, need: int = 0) -> str:
        text, level = self._expr(e)
        return f'（{text}）' if level < need else text

    def _expr(self, e) -> tuple[str, int]:
        k = self.kw
        if isinstance(e, (A.Money, A.Percent, A.Number)):
            return e.text, 9
        if isinstance(e, A.DateLit):
            return e.value.isoformat(), 9
        if isinstance(e, A.Bool):
            return k('是') if e.value else k('否'), 9
        if isinstance(e, A.Ref):
            return self.name(e.name), 9
        if isinstance(e, A.Or):
            return f'{self.expr(e.left, 1)} {k("或")} {self.expr(e.right, 2)}', 1
        if isinstance(e, A.And):
            return f'{self.expr(e.left, 2)} {k("且")} {self.expr(e.right, 3)}', 2
        if isinstance(e, A.Not):
            return f'{k("非")} {self.expr(e.operand, 3)}', 3
        if isinstance(e, A.Compare):
            return f'{self.expr(e.left, 5)} {e.word} {self.expr(e.right, 5)}', 4
        if isinstance(e, A.Range):
            s = f'{self.expr(e.subject, 5)} {k("在")} '
            if e.low is not None and e.high is not None:
                return s + f'{self.bound(e.low)} {e.word} {self.bound(e.high)}', 4
            b = e.low if e.low is not None else e.high
            return s + f'{self.bound(b)} {e.word}', 4
        if isinstance(e, A.Is):
            return f'{self.expr(e.subject, 5)} {k("是")} {self.name(e.value.text)}', 4
        if isinstance(e, A.In):
            vals = '、'.join(self.name(v.text) for v in e.values)
            return f'{self.expr(e.subject, 5)} {k("属于")}（{vals}）', 4
        if isinstance(e, A.Cap):
            return f'{self.expr(e.value, 5)} {k("最高")} {self.expr(e.limit, 6)}', 5
        if isinstance(e, A.CumulativeCap):
            return (f'{self.expr(e.value, 5)} {k("累计最高")} {self.expr(e.limit, 6)} '
                    f'{k("已获")} {self.expr(e.received, 6)}'), 5
        if isinstance(e, A.Matching):
            return f'{self.expr(e.base, 6)} {k("按")} {e.text} {k("配套")}', 5
        if isinstance(e, A.PerStep):
            word = k('每满') if e.full_steps else k('每')
            return (f'{self.expr(e.base, 6)} {word} {self.expr(e.step, 6)} {k("给予")} '
                    f'{self.expr(e.award, 6)}'), 5
        if isinstance(e, A.BinOp):
            sym = {'+': '+', '-': '-', '*': '×', '/': '÷'}[e.op]
            if e.op in '+-':
                return f'{self.expr(e.left, 6)} {sym} {self.expr(e.right, 7)}', 6
            return f'{self.expr(e.left, 7)} {sym} {self.expr(e.right, 8)}', 7
        if isinstance(e, A.Neg):
            return f'-{self.expr(e.operand, 8)}', 8
        if isinstance(e, A.Schedule):
            entries = '，'.join(
                f'{en.label}{" " + k("每年") if en.label.startswith("前") else ""} {self.expr(en.value, 5)}'
                for en in e.entries)
            return f'{k("按年")}（{self.expr(e.index, 5)}：{entries}）', 9
        if isinstance(e, A.Progressive):
            steps = '，'.join(f'{self.expr(s.threshold, 5)}：{self.expr(s.award, 5)}' for s in e.steps)
            rec = f'；{k("已获")} {self.expr(e.received, 5)}' if e.received is not None else ''
            return f'{k("晋级补差")}（{self.expr(e.base, 5)}：{steps}{rec}）', 9
        if isinstance(e, A.ByCategory):
            entries = '，'.join(f'{self.name(en.category.text)} {self.expr(en.value, 5)}'
                               for en in e.entries)
            return f'{k("分别")}（{self.expr(e.subject, 5)}：{entries}）', 9
        if isinstance(e, (A.MaxOf, A.MinOf)):
            word = k('取高') if isinstance(e, A.MaxOf) else k('取低')
            return f'{word}（{"，".join(self.expr(v, 5) for v in e.values)}）', 9
        raise TypeError(type(e).__name__)

    def bound(self, b: A.Bound) -> str:
        s = self.expr(b.value, 5)
        if b.explicit:
            s += '（含）' if b.inclusive else '（不含）'
        return s

    # ---------------------------------------------------------------- amounts
    def amount_inline(self, am) -> Optional[str]:
        k = self.kw
        if isinstance(am, A.Ceiling):
            return f'{k("最高")} {self.expr(am.value, 5)}'
        if isinstance(am, A.CaseByCase):
            return k('一事一议')
        if isinstance(am, A.Deferred):
            return f'{k("按规定享受")} {self.text(am.target)}'
        if isinstance(am, A.NonCash):
            return f'{k("非现金")} {self.text(am.benefit)}'
        if isinstance(am, A.NoAmount):
            return k('不设金额') + (f' {self.text(am.note)}' if am.note else '')
        if isinstance(am, A.ExplicitNA):
            return k('不适用') + (f' {self.text(am.note)}' if am.note else '')
        if isinstance(am, A.Tiers):
            return None
        return self.expr(am, 0)

    def amount(self, prefix: str, am, level: int, line: Optional[int]) -> None:
        inline = self.amount_inline(am)
        if inline is not None:
            self.emit(prefix + inline, line, level)
            return
        k = self.kw
        self.emit(prefix + k('分档') + '（', line, level)
        n = len(am.tiers) + (1 if am.otherwise is not None else 0)
        for i, t in enumerate(am.tiers):
            sep = '；' if i < n - 1 else ''
            self._tier(f'{k("当")} {self.expr(t.condition, 0)}：', t.amount, sep, level + 1,
                       t.span.line if t.span else None)
        if am.otherwise is not None:
            o = am.otherwise
            self._tier(f'{k("否则")}：', o, '', level + 1, getattr(o, 'span', None) and o.span.line)
        self.emit('）', am.span.end_line if am.span else None, level)

    def _tier(self, head: str, am, sep: str, level: int, line: Optional[int]) -> None:
        inline = self.amount_inline(am)
        if inline is not None:
            self.emit(head + inline + sep, line, level)
        else:
            self.amount(head, am, level, line)
            text, ln = self.lines[-1]
            self.lines[-1] = (text + sep, ln)

    # ---------------------------------------------------------------- declarations
    def header(self, f: A.HeaderField) -> None:
        k = self.kw
        line = f.span.line if f.span else None
        v = f.value
        labels = {'name': '政策', 'issuer': '发文机关', 'docno': '文号', 'status': '状态',
                  'source_file': '来源'}
        if f.key in labels:
            self.emit(f'{k(labels[f.key])}：{self.text(v)}', line)
        elif f.key in ('issued', 'effective', 'expiry', 'stats_start'):
            label = {'issued': '印发日期', 'effective': '施行日期', 'expiry': '有效期至',
                     'stats_start': '统计起始'}[f.key]
            self.emit(f'{k(label)}：{v.isoformat()}', line)
        elif f.key == 'duration':
            self.emit(f'{k("有效期")}：{v}{k("年")}', line)
        elif f.key == 'principle':
            self.emit(f'{k("组合原则")}：' + '、'.join(v), line)
        elif f.key == 'rates_are_maxima':
            self.emit(k('比例均为上限'), line)
        elif f.key == 'shared_units':
            self.emit(f'{k("共同责任单位")}：' + '、'.join(self.text(x) for x in v), line)
        elif f.key == 'source':
            self.emit(f'{k("原文")}：{self.string(v)}', line)
        elif f.key == 'reading':
            self.emit(f'{k("解读")}：{self.string(v)}', line)
        elif f.key == 'conditions':
            self.emit(f'{k("适用条件")}：{self.expr(v, 0)}', line)

    def input_decl(self, d: A.InputDecl) -> None:
        k = self.kw
        t = d.type
        if t.kind == 'enum':
            ty = k('枚举') + '（' + '、'.join(self.name(v.text) for v in t.values) + '）'
        else:
            ty = k({'money': '金额', 'percent': '百分比', 'int': '整数', 'bool': '是否',
                    'date': '日期'}[t.kind])
        s = f'{k("输入")} {self.name(d.name.text)}：{ty}'
        if d.record:
            s = f'{k("每个")} {self.name(d.record)} ' + s
        if d.description:
            s += ' ' + self.string(d.description)
        if d.default is not None:
            s += f' {k("默认")} {self.literal(d.default)}'
        self.emit(s, d.span.line if d.span else None)

    def record_decl(self, d: A.RecordDecl) -> None:
        s = f'{self.kw("记录")} {self.name(d.name.text)}'
        if d.description:
            s += ' ' + self.string(d.description)
        self.emit(s, d.span.line if d.span else None)

    def literal(self, e) -> str:
        if isinstance(e, A.Ref):
            return self.name(e.name)
        return self.expr(e, 9)

    def define(self, d: A.Define) -> None:
        s = f'{self.kw("定义")} {self.name(d.name.text)} = {self.expr(d.expr, 0)}'
        if d.description:
            s += ' ' + self.string(d.description)
        self.emit(s, d.span.line if d.span else None)

    def clause(self, c: A.Clause) -> None:
        k = self.kw
        line = c.span.line if c.span else None
        head = f'{k("条款")} {c.number}'
        if c.title:
            head += ' ' + self.text(c.title)
        self.emit(head, line)
        self._lines_prop(k('牵头单位'), c.lead, 1, c)
        self._lines_prop(k('责任单位'), c.units, 1, c)
        for s in c.source:
            self.emit(f'{k("原文")}：{self.string(s)}', None, 1)
        for r in c.readings:
            self.emit(f'{k("解读")}：{self.string(r)}', None, 1)
        for cnd in c.conditions:
            self.emit(f'{k("条件")}：{self.expr(cnd, 0)}', cnd.span.line if cnd.span else None, 1)
        for it in c.items:
            self.item(it)

    def _lines_prop(self, label: str, values, level: int, node) -> None:
        if values:
            self.emit(f'{label}：' + '、'.join(self.text(v) for v in values), None, level)

    def item(self, it: A.Item) -> None:
        k = self.kw
        head = f'{k("项")} {self.name(it.name.text)}'
        if it.per_record:
            head += f' {k("每个")} {self.name(it.per_record)}'
        self.emit(head, it.span.line if it.span else None, 1)
        if it.kind:
            self.emit(f'{k("类别")}：{self.text(it.kind)}', None, 2)
        self._lines_prop(k('牵头单位'), it.lead, 2, it)
        self._lines_prop(k('责任单位'), it.units, 2, it)
        for s in it.source:
            self.emit(f'{k("原文")}：{self.string(s)}', None, 2)
        for r in it.readings:
            self.emit(f'{k("解读")}：{self.string(r)}', None, 2)
        for cnd in it.conditions:
            self.emit(f'{k("条件")}：{self.expr(cnd, 0)}', cnd.span.line if cnd.span else None, 2)
        if it.amount is not None:
            self.amount(f'{k("金额")}：', it.amount, 2, getattr(it.amount, 'span', None) and it.amount.span.line)
        if it.quota is not None:
            self.emit(f'{k("每年名额")}：{it.quota}', None, 2)
        if it.pool is not None:
            self.emit(f'{k("每年总额")}：{it.pool.text}', it.pool.span.line if it.pool.span else None, 2)
        if it.allocation:
            self.emit(f'{k("分配")}：{self.text(it.allocation)}', None, 2)
        if it.firm_cap is not None:
            self.amount(f'{k(it.firm_cap_word or "每家最高")}：', it.firm_cap, 2,
                        getattr(it.firm_cap, 'span', None) and it.firm_cap.span.line)

    def group(self, g: A.Group) -> None:
        k = self.kw
        members = '、'.join(self.name(m.text) for m in g.members)
        line = g.span.line if g.span else None
        if g.mode == 'highest':
            per = f' {k("每个")} {self.name(g.per_record)}' if g.per_record else ''
            self.emit(f'{k("组")} {self.name(g.name.text)}：{k("就高")}（{members}）{per}', line)
        else:
            self.emit(f'{k("组")} {self.name(g.name.text)}：{k("合计")}（{members}） {k("最高")} '
                      f'{self.expr(g.cap, 6)}', line)

    def case(self, c: A.Case) -> None:
        k = self.kw
        self.emit(f'{k("案例")} {self.text(c.title)}', c.span.line if c.span else None)
        if c.date is not None:
            self.emit(f'{k("日期")}：{c.date.value.isoformat()}', c.date.span.line if c.date.span else None, 1)
        self._entries(k('输入'), [(f'{self.name(a.name.text)} = {self.literal(a.value)}',
                                   a.span.line if a.span else None) for a in c.inputs])
        for r in c.records:
            label = f'{self.name(r.kind.text)}' + (f' {self.string(r.label)}' if r.label else '')
            self._entries(label, [(f'{self.name(a.name.text)} = {self.literal(a.value)}',
                                   a.span.line if a.span else None) for a in r.inputs],
                          r.span.line if r.span else None)
        self._entries(k('期望'), [(f'{self._etarget(e.target.text)} = {self.expected(e)}',
                                   e.span.line if e.span else None) for e in c.expects])

    def _etarget(self, text: str) -> str:
        return self.kw('合计') if text in ('合计', '合計') else self.name(text)

    def _entries(self, label: str, entries, first_line=None) -> None:
        if not entries:
            if first_line is not None:
                self.emit(f'{label}：', first_line, 1)
            return
        head = f'{label}：'
        pad = ' ' * display_width(INDENT + head)
        for i, (text, line) in enumerate(entries):
            sep = '，' if i < len(entries) - 1 else ''
            if i == 0:
                self.emit(head + text + sep, line, 1)
            else:
                self.lines.append((pad + text + sep, line))

    def expected(self, e: A.Expectation) -> str:
        k = self.kw
        words = {'not_applicable': '不适用', 'case_by_case': '一事一议', 'deferred': '按规定享受',
                 'non_cash': '非现金', 'no_amount': '不设金额', 'set_aside': '未采用'}
        if e.kind in words:
            return k(words[e.kind])
        if e.kind == 'ceiling':
            return f'{k("最高")} {self.literal(e.value)}'
        return self.literal(e.value)

    def guarantee(self, g: A.Guarantee) -> None:
        k = self.kw
        head = k('保证') + (f' {self.text(g.title)}' if g.title else '') + '：'
        target = self.name(g.target.text) if g.target is not None else k('合计')
        line = g.span.line if g.span else None
        if g.kind == 'monotone':
            self.emit(f'{head}{target} {k("随")} {self.name(g.input.text)} {k("不减")}', line)
        else:
            self.emit(f'{head}{target} {g.word} {self.expr(g.bound, 5)}', line)

    # ---------------------------------------------------------------- whole file
    def policy(self) -> None:
        for f in self.p.header:
            self.header(f)
        decls = ([(d.span.start if d.span else 0, 'input', d) for d in self.p.inputs] +
                 [(d.span.start if d.span else 0, 'define', d) for d in self.p.defines] +
                 [(d.span.start if d.span else 0, 'record_decl', d) for d in self.p.records] +
                 [(d.span.start if d.span else 0, 'clause', d) for d in self.p.clauses] +
                 [(d.span.start if d.span else 0, 'group', d) for d in self.p.groups] +
                 [(d.span.start if d.span else 0, 'case', d) for d in self.p.cases] +
                 [(d.span.start if d.span else 0, 'guarantee', d) for d in self.p.guarantees])
        decls.sort(key=lambda x: x[0])
        prev = 'header' if self.p.header else None
        for _pos, kind, d in decls:
            grouped = kind in ('input', 'define', 'group', 'guarantee') and prev == kind or (
                {kind, prev} <= {'input', 'record_decl'})
            if prev is not None and not grouped:
                self.lines.append(('', None))
            getattr(self, {'input': 'input_decl'}.get(kind, kind))(d)
            prev = kind


_TRAD_WORDS = {'不低于': '不低於', '不少于': '不少於', '不超过': '不超過', '超过': '超過', '达到': '達到',
               '不满': '不滿', '低于': '低於', '高于': '高於', '大于': '大於', '小于': '小於',
               '等于': '等於', '少于': '少於', '多于': '多於', '以内': '以內'}


def _attach_comments(lines: list[tuple[str, Optional[int]]], comments) -> list[str]:
    """Place comments: alone-on-line ones before the next line from at/after them; trailing ones
    at the end of the line printed from their source line."""
    # every printed line gets the source line of the nearest line above it that has one
    known = []
    last = 0
    for text, ln in lines:
        if ln is not None:
            last = ln
        known.append(last)
    before: dict[int, list[str]] = {}
    after: dict[int, list[str]] = {}
    tail: list[str] = []
    blank_after = set()
    for cl, _col, text, alone, blank in comments:
        if alone and blank:
            blank_after.add(text)
        if not alone:
            idx = max((i for i, (t, ln) in enumerate(lines) if ln == cl), default=None)
            if idx is None:
                idx = max((i for i, ln in enumerate(known) if ln <= cl and lines[i][0]), default=None)
            if idx is not None:
                after.setdefault(idx, []).append(text)
                continue
        idx = next((i for i, (t, ln) in enumerate(lines) if ln is not None and ln >= cl), None)
        if idx is None:
            tail.append(text)
        else:
            before.setdefault(idx, []).append(text)
    out: list[str] = []
    for i, (text, _ln) in enumerate(lines):
        if i in before:
            indent = re.match(r'^ *', text).group(0) if text else ''
            for c in before[i]:
                out.append(indent + c)
                if c in blank_after:
                    out.append('')
        out.append(text + ''.join('  ' + c for c in after.get(i, [])))
    if tail:
        if out and out[-1]:
            out.append('')
        out.extend(tail)
    return out


def format_policy(policy: A.Policy, source: str) -> str:
    """The canonical text of ``policy`` (parsed from ``source``), comments kept."""
    pr = _Printer(policy, source)
    pr.policy()
    lines = _attach_comments(pr.lines, find_comments(source))
    text = '\n'.join(l.rstrip() for l in lines)
    text = re.sub(r'\n{3,}', '\n\n', text).strip('\n')
    return text + '\n'
