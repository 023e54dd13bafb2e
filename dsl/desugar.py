"""Constructs written for the author, rewritten into the core language before the checks.

Every stage after this one (checks, Python code, SQL, the reference interpreter, verify) sees
only core constructs, so each new construct is exact on every back end at once:

- 适用条件 (policy-wide), a chapter's 条件 (a clause numbered 二、: its items and the clauses
  （一）… or 二（一）… after it, up to the next chapter) and a clause's 条件 (every item of the
  clause) become the first conditions of each item below them, outermost first;
- ``x 累计最高 L 已获 R`` becomes ``x 最高 取高（L - R，0元）``: what is left of a cap over years;
- ``x 按 a:b 配套`` becomes ``x × (b/a)`` (a percentage written as the ratio, so the explanation
  and the number check show 1:0.5).

The nodes made here carry the span of what the author wrote, so diagnostics point at it.
"""
from __future__ import annotations

from decimal import Decimal

import attrs

from polc.dsl import ast as A


def desugar(policy: A.Policy) -> A.Policy:
    shared = tuple(policy.header_values('conditions'))
    if not shared and not any(c.conditions for c in policy.clauses) and not any(
            isinstance(n, (A.CumulativeCap, A.Matching)) for n in A.walk(policy)):
        return policy                 # nothing to rewrite (iterative walk: no recursion on deep input)
    clauses = []
    changed = False
    chapter: tuple = ()               # 条件 of the current chapter clause (二、), for its （一）…
    chapter_no = ''
    for c in policy.clauses:
        new_c = _rewrite(c)
        own = tuple(_rewrite(x) for x in c.conditions)
        level, parent = _level(c.number)
        inherited = ()
        if level == 'chapter':
            chapter, chapter_no = own, c.number[:-1]
        elif level == 'sub' and (parent is None or parent == chapter_no):
            inherited = chapter
        elif level != 'sub':
            chapter, chapter_no = (), ''
        prefix = shared + inherited + own
        if prefix:          # pushed down into the items (and no longer on the clause)
            new_c = attrs.evolve(new_c, conditions=(), items=tuple(
                attrs.evolve(it, conditions=prefix + it.conditions) for it in new_c.items))
        changed |= new_c is not c
        clauses.append(new_c)
    defines = tuple(_rewrite(d) for d in policy.defines)
    groups = tuple(_rewrite(g) for g in policy.groups)
    changed |= any(a is not b for a, b in zip(defines, policy.defines))
    changed |= any(a is not b for a, b in zip(groups, policy.groups))
    if not changed:
        return policy
    header = tuple(f for f in policy.header if f.key != 'conditions')
    return attrs.evolve(policy, header=header, clauses=tuple(clauses), defines=defines, groups=groups)


def _level(number: str):
    """('chapter', None) for 二、; ('sub', None) for （一）; ('sub', '二') for 二（一）; else (None, None)."""
    n = number.strip()
    if n.endswith('、'):
        return 'chapter', None
    if n.startswith('（') and n.endswith('）'):
        return 'sub', None
    if '（' in n and n.endswith('）') and not n.startswith('（'):
        return 'sub', n[:n.index('（')]
    return None, None


def _core(node):
    if isinstance(node, A.CumulativeCap):
        sp = node.span
        left = A.BinOp('-', node.limit, node.received, span=sp)
        rest = A.MaxOf((left, A.Money(Decimal(0), '0元', span=sp)), span=sp)
        return A.Cap(node.value, rest, span=sp)
    if isinstance(node, A.Matching):
        rate = A.Percent(node.right / node.left, node.text, span=node.span)
        return A.BinOp('*', node.base, rate, span=node.span)
    return node


def _rewrite(node):
    """``node`` with every author construct below it replaced (bottom-up)."""
    return A.rebuild(node, _core)
