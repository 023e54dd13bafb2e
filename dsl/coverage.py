"""Coverage of a policy against its source document: clauses encoded, outcome kinds, cases."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import attrs

from . import ast as A
from .checks import Checked
from .numbers import chinese_int
from .text import normalize

CATEGORY_LABELS = {'computed': '计算', 'ceiling': '最高可获', 'case_by_case': '一事一议',
                   'deferred': '按规定享受', 'non_cash': '非现金', 'no_amount': '未设金额',
                   'not_applicable': '不适用'}

_CN = '一二三四五六七八九十百零〇'
_STYLES = {
    'paren': re.compile(r'^\s*\(([' + _CN + r']+)\)', re.M),
    'dun': re.compile(r'^\s*([' + _CN + r']+)、', re.M),
    'dot': re.compile(r'^\s*(\d+)\.', re.M),
    'paren_digit': re.compile(r'^\s*\((\d+)\)', re.M),
}


def clause_style(number: str) -> Optional[str]:
    n = normalize(number).strip()
    if re.fullmatch(r'\([' + _CN + r']+\)', n):
        return 'paren'
    if re.fullmatch(r'[' + _CN + r']+、', n):
        return 'dun'
    if re.fullmatch(r'\d+\.?', n):
        return 'dot'
    if re.fullmatch(r'\(\d+\)', n):
        return 'paren_digit'
    return None


def clause_value(number: str) -> Optional[int]:
    n = normalize(number).strip('()、. ')
    return int(n) if n.isdigit() else chinese_int(n)


def document_clauses(text: str, style: str) -> list[int]:
    """Clause numbers of one style found at line starts, in order, as a run 1, 2, 3 …

    Only the first run counting up from 1 is taken, so a later list restarting at
    (一) (e.g. the closing provisions) is not counted as clauses.
    """
    found = [chinese_int(m.group(1)) if not m.group(1).isdigit() else int(m.group(1))
             for m in _STYLES[style].finditer(normalize(text))]
    run: list[int] = []
    for v in found:
        if v == len(run) + 1:
            run.append(v)
        elif v == 1 and run:
            break
    return run


def item_category(item: A.Item, checked: Checked) -> str:
    maxima = bool(checked.policy.header_value('rates_are_maxima', False))
    leaves = []
    stack = [item.amount]
    while stack:
        a = stack.pop()
        if isinstance(a, A.Tiers):
            stack.extend(t.amount for t in a.tiers)
            if a.otherwise is not None:
                stack.append(a.otherwise)
        elif a is not None:
            leaves.append(a)
    kinds = []
    for a in leaves:
        if isinstance(a, A.Ceiling):
            kinds.append('ceiling')
        elif isinstance(a, A.CaseByCase):
            kinds.append('case_by_case')
        elif isinstance(a, A.Deferred):
            kinds.append('deferred')
        elif isinstance(a, A.NonCash):
            kinds.append('non_cash')
        elif isinstance(a, A.NoAmount):
            kinds.append('no_amount')
        elif isinstance(a, A.ExplicitNA):
            kinds.append('not_applicable')
        else:
            rate = any(isinstance(n, A.BinOp) and n.op == '*' and 'percent' in (
                checked.type_of(n.left), checked.type_of(n.right)) for n in A.walk(a))
            kinds.append('ceiling' if maxima and rate else 'computed')
    for k in ('computed', 'ceiling', 'case_by_case', 'deferred', 'non_cash', 'no_amount'):
        if k in kinds:
            return k
    return 'not_applicable' if kinds else 'no_amount'


_PAGE_NUMBER = re.compile(r'^\s*[—-]\s*\d+\s*[—-]\s*$', re.M)


def match_form(text: str) -> str:
    """The form in which 原文 is compared with its document: page-number lines (— 5 —) removed,
    full-width forms made half-width, all whitespace dropped."""
    return ''.join(normalize(_PAGE_NUMBER.sub('', text)).split())


def source_texts(policy: A.Policy) -> list[tuple[str, str]]:
    """(where, 原文) for every 原文 in the policy."""
    out = [('政策', t) for t in policy.header_values('source')]
    for c in policy.clauses:
        out.extend((f'{c.number}{c.title}', t) for t in c.source)
        for it in c.items:
            out.extend((f'{c.number} · {it.name.text}', t) for t in it.source)
    return out


@attrs.frozen
class ClauseCoverage:
    number: str
    title: str
    items: tuple[tuple[str, str], ...]      # (item name, category)
    cases: int


@attrs.frozen
class Coverage:
    name: str
    file: str
    source_file: Optional[str]
    document_clauses: Optional[tuple[int, ...]]
    clauses: tuple[ClauseCoverage, ...]
    missing: tuple[int, ...]
    source_count: int = 0                       # 原文 strings in the policy
    source_not_found: tuple[str, ...] = ()      # those not in the document (where: text)

    @property
    def encoded_share(self) -> Optional[float]:
        if not self.document_clauses:
            return None
        return 1 - len(self.missing) / len(self.document_clauses)

    def counts(self) -> dict:
        out = {k: 0 for k in CATEGORY_LABELS}
        for c in self.clauses:
            for _n, cat in c.items:
                out[cat] += 1
        return out


def coverage(checked: Checked, file: str) -> Coverage:
    p = checked.policy
    cases_per_item: dict[str, int] = {}
    for case in p.cases:
        for name in {e.target.text for e in case.expects}:
            cases_per_item[name] = cases_per_item.get(name, 0) + 1
    clauses = []
    for c in p.clauses:
        items = tuple((it.name.text, item_category(it, checked)) for it in c.items)
        titles = {it.name.text for it in c.items}
        n_cases = sum(1 for case in p.cases if titles & {e.target.text for e in case.expects})
        clauses.append(ClauseCoverage(c.number, c.title, items, n_cases))
    source_file = p.header_value('source_file')
    doc, missing, not_found = None, (), ()
    texts = source_texts(p)
    if source_file:
        path = Path(file).parent / source_file
        from .files import FileProblem, read_bounded
        try:            # bounded, regular files only: a header naming /dev/zero or a FIFO is not read
            text = read_bounded(str(path)).decode('utf-8-sig')
        except (FileProblem, UnicodeDecodeError):
            text = None
        styles = {clause_style(c.number) for c in p.clauses} - {None}
        if text is not None and len(styles) == 1:
            doc = tuple(document_clauses(text, styles.pop()))
            have = {clause_value(c.number) for c in p.clauses}
            missing = tuple(n for n in doc if n not in have)
        if text is not None:
            body = match_form(text)
            not_found = tuple(f'{w}：{t}' for w, t in texts if match_form(t) not in body)
    return Coverage(str(p.header_value('name', '')), file, source_file, doc, tuple(clauses), missing,
                    len(texts), not_found)


def render_report(cov: Coverage) -> str:
    out = [f'{cov.name}（{cov.file}）']
    if cov.document_clauses is None:
        out.append('  原文件：未注明或无法读取（在政策头写「来源：\"sources/….txt\"」）')
    else:
        share = cov.encoded_share
        out.append(f'  原文件 {cov.source_file} 中的条款：{len(cov.document_clauses)}；'
                   f'已编码：{len(cov.document_clauses) - len(cov.missing)}（{share:.0%}）'
                   + (f'；缺少：{"、".join(str(m) for m in cov.missing)}' if cov.missing else ''))
    if cov.source_file:
        if cov.source_not_found:
            out.append(f'  原文核对：{cov.source_count} 条原文中有 {len(cov.source_not_found)} 条不在原文件中：')
            out.extend(f'    {x}' for x in cov.source_not_found)
        else:
            out.append(f'  原文核对：{cov.source_count} 条原文都出现在原文件中')
    counts = cov.counts()
    n_items = sum(counts.values())
    parts = '，'.join(f'{CATEGORY_LABELS[k]} {v}' for k, v in counts.items() if v)
    out.append(f'  条款 {len(cov.clauses)}，项 {n_items}：{parts}')
    for c in cov.clauses:
        kinds = '、'.join(f'{n}（{CATEGORY_LABELS[k]}）' for n, k in c.items) or '（无项）'
        out.append(f'  {c.number}{c.title}：{kinds}；案例 {c.cases}')
    return '\n'.join(out) + '\n'
