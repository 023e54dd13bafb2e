"""Checks over a parsed policy.

Each check is a pure function ``policy, context -> list[Diagnostic]``; :func:`check`
runs them all and returns every diagnostic found (it never stops at the first).
Type inference also records the type of every expression node, which the code
generator uses (:class:`Checked`).  The checks live by concern: ``typecheck`` (types of
expressions and amounts), ``structure`` (header, names, items, groups, inputs, guarantees),
``tiers`` (intervals, tiers and ranges), ``cases`` (test cases and numbers in the original text),
``limits`` (dates and constants every back end can represent).
"""
from __future__ import annotations

from typing import Callable, Optional

import attrs

from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic
from polc.dsl.symbols import Symbols, symbols_of
from polc.dsl.checks.cases import check_cases, check_numbers_in_text
from polc.dsl.checks.structure import (check_duplicates, check_groups, check_guarantees, check_header, check_inputs,
                                       check_items, check_rates, check_unused)
from polc.dsl.checks.limits import check_limits
from polc.dsl.checks.records import check_records
from polc.dsl.checks.tiers import check_ranges, check_tiers
from polc.dsl.checks.typecheck import const_value, type_name, typecheck

__all__ = ['Checked', 'check', 'const_value', 'type_name', 'typecheck']


@attrs.define
class Checked:
    """A policy with its symbols and the type of every expression (by node id)."""
    policy: A.Policy
    symbols: Symbols
    types: dict[int, str]
    diagnostics: list[Diagnostic]

    def type_of(self, node) -> Optional[str]:
        return self.types.get(id(node))


def check(policy: A.Policy) -> Checked:
    """Run every check; return the typed policy and all diagnostics, sorted by place."""
    sym = symbols_of(policy)
    ty = typecheck(policy, sym)
    diags = list(ty.diags)
    simple: list[Callable[[A.Policy, Symbols], list[Diagnostic]]] = [
        check_header, check_duplicates, check_items, check_rates, check_ranges, check_cases,
        check_numbers_in_text, check_records, check_limits]
    for f in simple:
        diags.extend(f(policy, sym))
    diags.extend(check_tiers(policy, sym, ty.types))
    diags.extend(check_groups(policy, sym, ty.types))
    diags.extend(check_inputs(policy, sym, ty.types))
    diags.extend(check_guarantees(policy, sym, ty.types))
    diags.extend(check_unused(policy, sym, ty.used))
    # one diagnostic per (place, code, message)
    unique = {(d.sort_key, d.code): d for d in diags}
    ordered = sorted(unique.values(), key=lambda d: d.sort_key)
    return Checked(policy, sym, ty.types, ordered)
