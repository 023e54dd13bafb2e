"""``polc diff``, structural part: what was added, removed, renamed or changed between two
versions of a policy — header (validity dates …), inputs, definitions, clauses, items (matched by
name; a renamed item is found in the same clause by similar content), groups — each change with
the old and new text and the old and new 原文.

A change is *semantic* when it may change an amount or an outcome (numbers, conditions, caps,
tiers, schedules, groups, validity, input defaults); 原文, 解读, titles and wording that keeps the
same numbers are not.  Comparison ignores positions, comments and layout, and treats two ways of
writing the same number (100万元 / 1000000元) or the same relation (≥ / 达到 / 不低于) as equal.
"""
from __future__ import annotations

import difflib
from typing import Optional

import attrs

from polc.dsl import ast as A

# fields that are only wording: the value they spell is compared through other fields
_WORDING = {A.Money: ('text',), A.Percent: ('text',), A.Number: ('text',), A.Compare: ('word',),
            A.Range: ('word',), A.Bound: ('explicit',), A.ScheduleEntry: ('label',),
            A.ExplicitNA: ('note',), A.NoAmount: ('note',)}

HEADER_LABELS = {'name': '政策名称', 'issuer': '发文机关', 'docno': '文号', 'issued': '印发日期',
                 'effective': '施行日期', 'expiry': '有效期至', 'duration': '有效期（年）',
                 'stats_start': '统计起始日期', 'principle': '组合原则', 'rates_are_maxima': '比例均为最高比例',
                 'status': '状态', 'shared_units': '共同单位', 'source': '原文', 'reading': '解读',
                 'source_file': '来源文件'}
SEMANTIC_HEADER = {'issued', 'effective', 'expiry', 'duration', 'rates_are_maxima'}


def key(node):
    """A comparable value of an AST node: no positions, no wording."""
    if isinstance(node, tuple):
        return tuple(key(x) for x in node)
    if not attrs.has(type(node)):
        return node
    skip = _WORDING.get(type(node), ())
    return (type(node).__name__,) + tuple(key(getattr(node, f)) for f in A._field_names(type(node))
                                          if f not in skip)


@attrs.define
class Change:
    kind: str                   # added | removed | renamed | changed | moved
    where: str                  # 「（八）「企业算力券」」, 「政策头」, 「输入「X」」 …
    aspect: str                 # 金额, 条件, 原文, 解读, 有效期至 …
    old: str = ''
    new: str = ''
    old_source: tuple = ()      # 原文 of the clause or item, old and new
    new_source: tuple = ()
    semantic: bool = True       # may change an amount or an outcome
    parts: tuple = ()           # the numbers, ends … that changed: '上限 500万元 → 600万元'

    def to_dict(self) -> dict:
        return {'kind': self.kind, 'where': self.where, 'aspect': self.aspect, 'old': self.old,
                'new': self.new, 'parts': list(self.parts), 'old_source': list(self.old_source),
                'new_source': list(self.new_source), 'semantic': self.semantic}


@attrs.define
class Version:
    """One side of a diff: the policy, its source text and its file name."""
    policy: A.Policy
    source: str
    file: str

    def text(self, node) -> str:
        if node is None:
            return ''
        if isinstance(node, tuple):
            return '；'.join(self.text(n) for n in node)
        sp = getattr(node, 'span', None)
        if sp is None or sp.end <= sp.start:
            return str(getattr(node, 'text', node))
        return ' '.join(self.source[sp.start:sp.end].split())


@attrs.define
class Structure:
    changes: list
    item_pairs: list            # (old clause, old item | None, new clause, new item | None)

    @property
    def semantic(self) -> list:
        return [c for c in self.changes if c.semantic]


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def match_items(old: Version, new: Version) -> list:
    """Pairs (old clause, old item, new clause, new item); None on the side where it is missing."""
    olds = list(old.policy.items())
    news = list(new.policy.items())
    new_by_name = {it.name.text: (c, it) for c, it in news}
    pairs, used = [], set()
    rest_old = []
    for c, it in olds:
        if it.name.text in new_by_name:
            nc, nit = new_by_name[it.name.text]
            pairs.append((c, it, nc, nit))
            used.add(id(nit))
        else:
            rest_old.append((c, it))
    rest_new = [(c, it) for c, it in news if id(it) not in used]
    # renames: same clause number, similar content (text of the item without its name)
    for c, it in rest_old:
        body = old.text(it).replace(it.name.text, '')
        best, score = None, 0.0
        for nc, nit in rest_new:
            if nc.number != c.number:
                continue
            s = _similar(body, new.text(nit).replace(nit.name.text, ''))
            if s > score:
                best, score = (nc, nit), s
        if best is not None and score >= 0.6:
            pairs.append((c, it, best[0], best[1]))
            rest_new.remove(best)
        else:
            pairs.append((c, it, None, None))
    for nc, nit in rest_new:
        pairs.append((None, None, nc, nit))
    return pairs


def _where(clause, item) -> str:
    return f'{clause.number}「{item.name.text}」' if item is not None else f'条款 {clause.number}'


def _lines(lines) -> str:
    return '；'.join(lines)


def _compare_texts(out, where, aspect, a, b, osrc, nsrc):
    if tuple(a) != tuple(b):
        out.append(Change('changed', where, aspect, _lines(a), _lines(b), osrc, nsrc, semantic=False))


_LABELS = {(A.Cap, 'limit'): '上限', (A.Bound, 'value'): '端点', (A.PerStep, 'step'): '每', (A.PerStep, 'award'): '给予',
           (A.ProgressiveStep, 'threshold'): '台阶', (A.ProgressiveStep, 'award'): '台阶金额'}


def pinpoint(old: 'Version', new: 'Version', a, b, label: str = '') -> list:
    """The smallest parts that differ between two nodes of the same shape: ['上限 500万元 → 600万元', …]."""
    if key(a) == key(b):
        return [] if old.text(a) == new.text(b) else [f'{old.text(a)} → {new.text(b)}']
    same_shape = type(a) is type(b) and attrs.has(type(a))
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return [x for p, q in zip(a, b) for x in pinpoint(old, new, p, q, label)]
    if not same_shape or isinstance(a, (A.Money, A.Percent, A.Number, A.Ref, A.Name)):
        word = label or ('比例' if isinstance(a, A.Percent) else '')
        return [f'{word + " " if word else ""}{old.text(a) or "（无）"} → {new.text(b) or "（无）"}']
    if isinstance(a, A.Bound) and a.inclusive != b.inclusive and key(a.value) == key(b.value):
        inc = lambda x: '（含）' if x.inclusive else '（不含）'
        return [f'端点 {old.text(a.value)}{inc(a)} → {new.text(b.value)}{inc(b)}']
    out = []
    for f in A._field_names(type(a)):
        if f in _WORDING.get(type(a), ()):
            continue
        x, y = getattr(a, f), getattr(b, f)
        if key(x) != key(y):
            if not attrs.has(type(x)) and not isinstance(x, tuple):
                return [f'{label + " " if label else ""}{old.text(a)} → {new.text(b)}']
            out += pinpoint(old, new, x, y, _LABELS.get((type(a), f), label))
    return out


def _compare_node(out, old, new, where, aspect, a, b, osrc, nsrc):
    """A semantic change when the values differ; a wording change when only the text does."""
    if key(a) != key(b):
        out.append(Change('changed', where, aspect, old.text(a), new.text(b), osrc, nsrc,
                          parts=tuple(pinpoint(old, new, a, b))))
    elif old.text(a) != new.text(b):
        out.append(Change('changed', where, f'{aspect}（措辞）', old.text(a), new.text(b), osrc, nsrc,
                          semantic=False))


def benefits(it) -> list:
    """The texts that are part of an item's outcome: non-cash benefits and the policies deferred to."""
    if it is None or it.amount is None:
        return []
    return [(type(n).__name__, getattr(n, 'benefit', getattr(n, 'target', '')))
            for n in A.walk(it.amount) if isinstance(n, (A.NonCash, A.Deferred))]


def _compare_amount(out, old, new, where, a, b, osrc, nsrc):
    if isinstance(a, A.Tiers) and isinstance(b, A.Tiers):
        for k in range(max(len(a.tiers), len(b.tiers))):
            ta = a.tiers[k] if k < len(a.tiers) else None
            tb = b.tiers[k] if k < len(b.tiers) else None
            if ta is None or tb is None:
                out.append(Change('added' if ta is None else 'removed', where, f'第{k + 1}档',
                                  old.text(ta), new.text(tb), osrc, nsrc))
                continue
            _compare_node(out, old, new, where, f'第{k + 1}档条件', ta.condition, tb.condition, osrc, nsrc)
            _compare_node(out, old, new, where, f'第{k + 1}档金额', ta.amount, tb.amount, osrc, nsrc)
        if a.otherwise is not None or b.otherwise is not None:
            _compare_node(out, old, new, where, '否则', a.otherwise, b.otherwise, osrc, nsrc)
        return
    _compare_node(out, old, new, where, '金额', a, b, osrc, nsrc)


def _compare_item(out, old, new, oc, it, nc, nit):
    where = _where(nc, nit)
    osrc, nsrc = it.source, nit.source
    if it.name.text != nit.name.text:
        out.append(Change('renamed', where, '项名', it.name.text, nit.name.text, osrc, nsrc, semantic=False))
    if oc.number != nc.number:
        out.append(Change('moved', where, '所属条款', oc.number, nc.number, osrc, nsrc, semantic=False))
    _compare_texts(out, where, '原文', it.source, nit.source, osrc, nsrc)
    _compare_texts(out, where, '解读', it.readings, nit.readings, osrc, nsrc)
    if it.kind != nit.kind:
        out.append(Change('changed', where, '类别', it.kind, nit.kind, osrc, nsrc, semantic=False))
    for aspect, a, b in (('牵头单位', it.lead, nit.lead), ('责任单位', it.units, nit.units)):
        if tuple(a) != tuple(b):
            out.append(Change('changed', where, aspect, '、'.join(a), '、'.join(b), osrc, nsrc, semantic=False))
    _compare_node(out, old, new, where, '条件', it.conditions, nit.conditions, osrc, nsrc)
    _compare_amount(out, old, new, where, it.amount, nit.amount, osrc, nsrc)
    for aspect, a, b in (('每年名额', it.quota, nit.quota), ('资金池', key(it.pool), key(nit.pool)),
                         ('分配方式', it.allocation, nit.allocation)):
        if a != b:
            out.append(Change('changed', where, aspect, _show(old, getattr(it, _F[aspect])),
                              _show(new, getattr(nit, _F[aspect])), osrc, nsrc))


_F = {'每年名额': 'quota', '资金池': 'pool', '分配方式': 'allocation'}


def _show(v: Version, x) -> str:
    if x is None or x == '':
        return '（无）'
    return v.text(x) if attrs.has(type(x)) else str(x)


def _header(out, old: Version, new: Version):
    keys = []
    for f in old.policy.header + new.policy.header:
        if f.key not in keys:
            keys.append(f.key)
    for k in keys:
        a = old.policy.header_values(k)
        b = new.policy.header_values(k)
        if a != b:
            label = HEADER_LABELS.get(k, k)
            fmt = lambda vs: '；'.join(str(x) if not isinstance(x, tuple) else '、'.join(x) for x in vs) or '（无）'
            out.append(Change('changed', '政策头', label, fmt(a), fmt(b), semantic=k in SEMANTIC_HEADER))


def _inputs(out, old: Version, new: Version):
    a = {d.name.text: d for d in old.policy.inputs}
    b = {d.name.text: d for d in new.policy.inputs}
    for name in list(a) + [n for n in b if n not in a]:
        da, db = a.get(name), b.get(name)
        where = f'输入「{name}」'
        if da is None or db is None:
            out.append(Change('added' if da is None else 'removed', where, '输入', old.text(da), new.text(db),
                              semantic=(db is not None and db.default is None) or da is not None))
            continue
        if key(da.type) != key(db.type):
            out.append(Change('changed', where, '类型', old.text(da.type), new.text(db.type)))
        if key(da.default) != key(db.default):
            out.append(Change('changed', where, '默认值', _show(old, da.default), _show(new, db.default)))
        if da.description != db.description:
            out.append(Change('changed', where, '说明', da.description, db.description, semantic=False))


def _named(out, old: Version, new: Version, olds, news, label, body):
    a = {x.name.text: x for x in olds}
    b = {x.name.text: x for x in news}
    for name in list(a) + [n for n in b if n not in a]:
        xa, xb = a.get(name), b.get(name)
        where = f'{label}「{name}」'
        if xa is None or xb is None:
            out.append(Change('added' if xa is None else 'removed', where, label, old.text(xa), new.text(xb)))
        elif key(body(xa)) != key(body(xb)):
            out.append(Change('changed', where, label, old.text(xa), new.text(xb)))


def structural_diff(old: Version, new: Version) -> Structure:
    out: list = []
    _header(out, old, new)
    _inputs(out, old, new)
    _named(out, old, new, old.policy.defines, new.policy.defines, '定义', lambda d: d.expr)
    # clauses by number
    ca = {c.number: c for c in old.policy.clauses}
    cb = {c.number: c for c in new.policy.clauses}
    for num in list(ca) + [n for n in cb if n not in ca]:
        a, b = ca.get(num), cb.get(num)
        if a is None or b is None:
            out.append(Change('added' if a is None else 'removed', f'条款 {num}', '条款',
                              f'{num} {a.title}' if a else '', f'{num} {b.title}' if b else '',
                              a.source if a else (), b.source if b else (), semantic=False))
            continue
        where = f'条款 {num}'
        if a.title != b.title:
            out.append(Change('changed', where, '标题', a.title, b.title, a.source, b.source, semantic=False))
        _compare_texts(out, where, '原文', a.source, b.source, a.source, b.source)
        _compare_texts(out, where, '解读', a.readings, b.readings, a.source, b.source)
        for aspect, x, y in (('牵头单位', a.lead, b.lead), ('责任单位', a.units, b.units)):
            if tuple(x) != tuple(y):
                out.append(Change('changed', where, aspect, '、'.join(x), '、'.join(y), a.source, b.source,
                                  semantic=False))
    pairs = match_items(old, new)
    for oc, it, nc, nit in pairs:
        if it is None:
            out.append(Change('added', _where(nc, nit), '项', '', new.text(nit), (), nit.source))
        elif nit is None:
            out.append(Change('removed', _where(oc, it), '项', old.text(it), '', it.source, ()))
        else:
            _compare_item(out, old, new, oc, it, nc, nit)
    _named(out, old, new, old.policy.groups, new.policy.groups, '组', lambda g: (g.mode, g.members, g.cap))
    na, nb = len(old.policy.cases), len(new.policy.cases)
    if [key(c) for c in old.policy.cases] != [key(c) for c in new.policy.cases]:
        out.append(Change('changed', '案例', '案例', f'{na} 个', f'{nb} 个', semantic=False))
    if [key(g) for g in old.policy.guarantees] != [key(g) for g in new.policy.guarantees]:
        out.append(Change('changed', '保证', '保证', f'{len(old.policy.guarantees)} 条',
                          f'{len(new.policy.guarantees)} 条', semantic=False))
    return Structure(out, pairs)


def same_rules(old: Version, new: Version, it: Optional[A.Item], nit: Optional[A.Item]) -> bool:
    """The item computes the same in both versions because its rules, and every input, definition
    and header setting they use, are the same (no solver needed)."""
    if it is None or nit is None:
        return False
    if key((it.conditions, it.amount, it.firm_cap)) != key((nit.conditions, nit.amount, nit.firm_cap)):
        return False
    if (it.per_record, it.firm_cap_word) != (nit.per_record, nit.firm_cap_word):
        return False
    if old.policy.header_value('rates_are_maxima', False) != new.policy.header_value('rates_are_maxima', False):
        return False
    ins_a = {d.name.text: d for d in old.policy.inputs}
    ins_b = {d.name.text: d for d in new.policy.inputs}
    defs_a = {d.name.text: d for d in old.policy.defines}
    defs_b = {d.name.text: d for d in new.policy.defines}
    seen, todo = set(), [n.name for n in A.walk(it) if isinstance(n, A.Ref)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in ins_a or name in ins_b:
            da, db = ins_a.get(name), ins_b.get(name)
            if da is None or db is None or key(da.type) != key(db.type) or key(da.default) != key(db.default):
                return False
        elif name in defs_a or name in defs_b:
            da, db = defs_a.get(name), defs_b.get(name)
            if da is None or db is None or key(da.expr) != key(db.expr):
                return False
            todo.extend(n.name for n in A.walk(da.expr) if isinstance(n, A.Ref))
    return True
