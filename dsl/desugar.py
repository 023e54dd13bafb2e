"""Constructs written for the author, rewritten into the core language before the checks.

Every stage after this one (checks, Python code, SQL, the reference interpreter, verify) sees
only core constructs, so each new construct is exact on every back end at once:

- 适用条件 (policy-wide) and a clause's 条件 (every item of the clause) become the first
  conditions of each item below them, policy-wide first;
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
    clauses = []
    changed = False
    for c in policy.clauses:
        new_c = _rewrite(c)
        prefix = shared + tuple(_rewrite(x) for x in c.conditions)
        if prefix:
            new_c = attrs.evolve(new_c, items=tuple(
                attrs.evolve(it, conditions=prefix + it.conditions) for it in new_c.items))
        changed |= new_c is not c
        clauses.append(new_c)
    defines = tuple(_rewrite(d) for d in policy.defines)
    groups = tuple(_rewrite(g) for g in policy.groups)
    changed |= any(a is not b for a, b in zip(defines, policy.defines))
    changed |= any(a is not b for a, b in zip(groups, policy.groups))
    if not changed:
        return policy
    return attrs.evolve(policy, clauses=tuple(clauses), defines=defines, groups=groups)


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
    if isinstance(node, tuple):
        items = tuple(_rewrite(x) for x in node)
        return node if all(a is b for a, b in zip(items, node)) else items
    if not attrs.has(type(node)):
        return node
    changes = {}
    for f in attrs.fields(type(node)):
        if f.name == 'span':
            continue
        v = getattr(node, f.name)
        if isinstance(v, tuple) or attrs.has(type(v)):
            nv = _rewrite(v)
            if nv is not v:
                changes[f.name] = nv
    new = attrs.evolve(node, **changes) if changes else node
    return _core(new)
