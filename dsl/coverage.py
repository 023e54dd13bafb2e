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
# The same numbers inside a line, after a sentence or a bracket closes: a document crawled as one
# line ("…制定以下措施。（一）…（二）…") has its clause numbers there, not at line starts.
_AFTER = r'(?:(?<=^)|(?<=[\s。;:,)〕】」”"]))'
_INLINE = {
    'paren': re.compile(_AFTER + r'\(([' + _CN + r']+)\)', re.M),
    'dun': re.compile(_AFTER + r'([' + _CN + r']+)、', re.M),
    'dot': re.compile(_AFTER + r'(\d+)\.(?!\d)', re.M),
    'paren_digit': re.compile(_AFTER + r'\((\d+)\)', re.M),
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
    """Clause numbers of one style, in order, as a run 1, 2, 3 …

    Numbers at line starts are taken first; when numbers inside lines (after a sentence or a
    bracket closes) make a longer run, as in a document crawled as one line, those are taken.
    Only the first run counting up from 1 is taken, so a later list restarting at
    (一) (e.g. the closing provisions) is not counted as clauses.
    """
    norm = normalize(text)
    best: list[int] = []
    for pattern in (_STYLES[style], _INLINE[style]):
        found = [chinese_int(m.group(1)) if not m.group(1).isdigit() else int(m.group(1))
                 for m in pattern.finditer(norm)]
        run: list[int] = []
        for v in found:
            if v == len(run) + 1:
                run.append(v)
            elif v == 1 and run:
                break
        if len(run) > len(best):
            best = run
    return best


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
    source_near: tuple[str, ...] = ()           # those differing from it only in final punctuation

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
    doc, missing, not_found, near_found = None, (), (), ()
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
            far, near = [], []
            for w, t in texts:
                if match_form(t) in body:
                    continue
                diff = _final_punctuation(match_form(t), body, t)
                if diff is None:
                    far.append(f'{w}：{t}')
                else:
                    near.append(f'{w}：{t}（{diff}）')
            not_found, near_found = tuple(far), tuple(near)
    return Coverage(str(p.header_value('name', '')), file, source_file, doc, tuple(clauses), missing,
                    len(texts), not_found, near_found)


_PUNCT = set('。.;；,，:：!！?？、')


def _final_punctuation(t: str, body: str, written: str = '') -> Optional[str]:
    """How a 原文 differs from the document when only its final punctuation does, else None."""
    stem = t
    while stem and stem[-1] in _PUNCT:
        stem = stem[:-1]
    if len(stem) < 4 or stem not in body:
        return None
    i = body.index(stem) + len(stem)
    theirs = ''
    while i < len(body) and body[i] in _PUNCT:
        theirs += body[i]
        i += 1
    ours = t[len(stem):]
    w = written.rstrip()
    if w and normalize(w[len(w) - len(ours):]) == ours:
        ours = w[len(w) - len(ours):]            # as written (full-width punctuation kept)
    show = lambda x: f'「{x}」' if x else '没有标点'
    return f'只差末尾标点：原文末尾{show(ours)}，原文件此处{show(theirs)}'


def render_report(cov: Coverage) -> str:
    out = [f'{cov.name}（{cov.file}）']
    if cov.document_clauses is None:
        out.append('  原文件：未注明或无法读取（在政策头写「来源：\"sources/….txt\"」）')
    else:
        share = cov.encoded_share
        if share is None:
            out.append(f'  原文件 {cov.source_file} 中没有找到与本政策编号写法相同的条款编号')
        else:
            out.append(f'  原文件 {cov.source_file} 中的条款：{len(cov.document_clauses)}；'
                       f'已编码：{len(cov.document_clauses) - len(cov.missing)}（{share:.0%}）'
                       + (f'；缺少：{"、".join(str(m) for m in cov.missing)}' if cov.missing else ''))
    if cov.source_file:
        if cov.source_not_found:
            out.append(f'  原文核对：{cov.source_count} 条原文中有 {len(cov.source_not_found)} 条不在原文件中：')
            out.extend(f'    {x}' for x in cov.source_not_found)
        if cov.source_near:
            out.append(f'  原文核对：{cov.source_count} 条原文中有 {len(cov.source_near)} 条与原文件相近（只差末尾标点）：')
            out.extend(f'    {x}' for x in cov.source_near)
        if not cov.source_not_found and not cov.source_near:
            out.append(f'  原文核对：{cov.source_count} 条原文都出现在原文件中')
    counts = cov.counts()
    n_items = sum(counts.values())
    parts = '，'.join(f'{CATEGORY_LABELS[k]} {v}' for k, v in counts.items() if v)
    out.append(f'  条款 {len(cov.clauses)}，项 {n_items}：{parts}')
    for c in cov.clauses:
        kinds = '、'.join(f'{n}（{CATEGORY_LABELS[k]}）' for n, k in c.items) or '（无项）'
        out.append(f'  {c.number}{c.title}：{kinds}；案例 {c.cases}')
    return '\n'.join(out) + '\n'
