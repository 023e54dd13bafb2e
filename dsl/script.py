"""Simplified and traditional spellings are one language.

Names, enumeration values, item names and table headers are compared after
*folding*: conversion to simplified characters by OpenCC (``t2s``).  Folding is
only used to *find* a declaration; every output keeps the policy's own spelling.

A policy written mostly in traditional characters (its keywords decide, as for
the formatter) gets polc's own words in traditional characters too
(:func:`to_policy_script`), while the policy's names and quoted texts are left
exactly as written.
"""
from __future__ import annotations

import functools
import re

import attrs

from . import ast as A
from .diagnostics import Diagnostic, error
from .keywords import KEYWORDS, SPELLING_TO_TYPE, is_traditional_spelling


@functools.lru_cache(maxsize=None)
def _converter(config: str):
    import opencc
    return opencc.OpenCC(config)


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """The simplified-character form of ``text`` (OpenCC t2s); the key names are compared by."""
    return _converter('t2s').convert(text)


@functools.lru_cache(maxsize=65536)
def to_traditional(text: str) -> str:
    """polc's own words in traditional characters (OpenCC s2tw: 為、審核, the forms the
    traditional seed policy uses, rather than s2t's 爲、審覈)."""
    return _converter('s2tw').convert(text)


def spellings(text: str) -> set[str]:
    """The spellings under which ``text`` is found without OpenCC at run time: as written,
    folded to simplified, and converted to traditional (mainland, Taiwan and Hong Kong forms)."""
    out = {text, fold(text)}
    for config in ('s2t', 's2tw', 's2hk'):
        out.add(_converter(config).convert(fold(text)))
    return out


def alias_table(names) -> dict[str, str]:
    """spelling -> declared name, for every other spelling of the given (unambiguous) names.

    Names whose folds collide are left out (the check reports them)."""
    by_fold: dict[str, set[str]] = {}
    for n in names:
        by_fold.setdefault(fold(n), set()).add(n)
    out: dict[str, str] = {}
    for n in names:
        if len(by_fold[fold(n)]) != 1:
            continue
        for s in spellings(n):
            if s != n:
                out.setdefault(s, n)
    for n in names:                   # a declared spelling always means itself
        out.pop(n, None)
    return out


_KW_RE = re.compile(r'[\u3400-\u9fff]+')


def uses_traditional(source: str) -> bool:
    """Whether a policy is written in traditional characters: most of its keywords that have
    two spellings are written in the traditional one."""
    trad = simp = 0
    for m in _KW_RE.finditer(source):
        w = m.group(0)
        t = SPELLING_TO_TYPE.get(w)
        if t in KEYWORDS and len(KEYWORDS[t]) > 1:
            if is_traditional_spelling(w):
                trad += 1
            else:
                simp += 1
    return trad > simp


# Private-use characters stand in for the policy's own texts while polc's words are converted.
_PUA = 0xF0000


def to_policy_script(text: str, traditional: bool, protected=()) -> str:
    """polc's own words in ``text`` converted to traditional characters when the policy is
    written in them; every string in ``protected`` (names, 原文, 解读 …) is kept as written."""
    if not traditional or not text:
        return text
    keep = sorted({p for p in protected if p and p in text}, key=len, reverse=True)
    saved: list[str] = []
    for p in keep:
        if p in text:
            text = text.replace(p, chr(_PUA + len(saved)))
            saved.append(p)
    out = to_traditional(text)
    for i, p in enumerate(saved):
        out = out.replace(chr(_PUA + i), p)
    return out


# ------------------------------------------------------------------ names in a policy
def declared_names(policy: A.Policy) -> list[A.Name]:
    """Every declaring occurrence of a name: inputs, enumeration values, definitions, items, groups."""
    out: list[A.Name] = []
    for d in policy.inputs:
        out.append(d.name)
        if d.type.kind == 'enum':
            out.extend(d.type.values)
    out.extend(d.name for d in policy.defines)
    out.extend(it.name for _c, it in policy.items())
    out.extend(g.name for g in policy.groups)
    return out


def resolve_spellings(policy: A.Policy) -> tuple[A.Policy, list[Diagnostic]]:
    """Rewrite every reference spelt differently from its declaration (simplified for
    traditional or the reverse) to the declared spelling, so that later stages compare
    names exactly.  Declared names that differ but fold to one spelling are an error
    (E-NAME-FOLD), and references to them are left as written."""
    decls = declared_names(policy)
    by_fold: dict[str, dict[str, A.Name]] = {}
    for n in decls:
        by_fold.setdefault(fold(n.text), {}).setdefault(n.text, n)
    diags: list[Diagnostic] = []
    for spelt in by_fold.values():
        if len(spelt) > 1:
            names = list(spelt.values())
            first = names[0]
            for other in names[1:]:
                diags.append(error(
                    'E-NAME-FOLD',
                    f'名称「{other.text}」与「{first.text}」只差简繁写法，简繁通用后是同一个名称',
                    other.span,
                    hint='名称的简体、繁体写法通用（事实、表头、引用都按简繁折合后查找），'
                         '两个只差简繁的名称无法区分；请改用不同的名称'))
    exact = {n.text for n in decls}
    target = {f: next(iter(s)) for f, s in by_fold.items() if len(s) == 1}
    if not target:
        return policy, diags

    def resolve(text: str) -> str:
        if text in exact:
            return text
        return target.get(fold(text), text)

    # most policies spell every reference as declared: then nothing is rebuilt (the walk is
    # iterative, so a deeply nested expression costs no recursion here)
    if all(resolve(n.name if isinstance(n, A.Ref) else n.text) == (n.name if isinstance(n, A.Ref) else n.text)
           for n in A.walk(policy) if isinstance(n, (A.Ref, A.Name))):
        return policy, diags
    return _rewrite(policy, resolve), diags


def _rewrite(node, resolve):
    """Rebuild ``node`` with every Ref and Name passed through ``resolve``."""
    def rename(n):
        if isinstance(n, A.Ref):
            new = resolve(n.name)
            return n if new == n.name else attrs.evolve(n, name=new)
        if isinstance(n, A.Name):
            new = resolve(n.text)
            return n if new == n.text else attrs.evolve(n, text=new)
        return n
    return A.rebuild(node, rename)
