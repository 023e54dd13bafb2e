"""Runtime for policies with records (一个申请人、多个项目、产品、活动).

Facts are either flat, as for any policy (the record inputs at the top level describe one
record), or an applicant object with a list per record kind::

    {"主体类型": "企业", "产品": [{"名称": "甲", "年销售额": "3500万元"}, {"年销售额": "8000万元"}]}

An item written ``每个 产品`` is computed once per product with the applicant's facts and that
product's facts; 就高 groups written ``每个 产品`` keep, for each product, the highest of their
members; an item's quota (每年名额) counts products; the item's amount is the sum over products,
cut by its ``每家（每年）最高`` cap; then the applicant-level groups apply as usual.

Standard library only (with :mod:`runtime`): ``polc build`` embeds this module after the runtime.
"""
from __future__ import annotations

import decimal as _decimal
from decimal import Decimal

from polc.compiler.python.runtime import (AMOUNT, CEILING, CONTEXT, NOT_APPLICABLE, FactsError, _apply_groups,
                                          _unfilled, _validity, coerce_facts, evaluation_date, finish_evaluation,
                                          format_money, round_fen, run_item)

__all__ = ['evaluate_records', 'split_record_facts', 'LABEL_KEY']

LABEL_KEY = '名称'            # an optional label for each record in the facts


def split_record_facts(inputs, records, facts, aliases=None, value_aliases=None, given=None):
    """(values for the applicant and flat records, {kind: [values per record]} for listed kinds).

    ``records`` maps kind -> (description, input names).  ``given`` (a dict), if passed, receives
    the declared names the applicant gave: under '' for the applicant, and under (kind, i) for the
    i-th listed record (from 1).  Raises FactsError naming every problem."""
    given = {} if given is None else given
    own_given = given.setdefault('', set())
    if not isinstance(facts, dict):
        return coerce_facts(inputs, facts, aliases, value_aliases, own_given), {}
    listed = [k for k in records if k in facts]
    if not listed:
        return coerce_facts(inputs, facts, aliases, value_aliases, own_given), {}
    problems = []
    own = set()
    for k in listed:
        own.update(records[k][1])
    base_inputs = {n: v for n, v in inputs.items() if n not in own}
    base_facts = {n: v for n, v in facts.items() if n not in listed}
    for n in base_facts:
        if n in own:
            kind = next(k for k in listed if n in records[k][1])
            problems.append((n, f'已经逐个列出了「{kind}」，{kind}的输入应写在每个{kind}里，不能写在顶层'))
    base_facts = {n: v for n, v in base_facts.items() if n not in own}
    base = {}
    try:
        base = coerce_facts(base_inputs, base_facts, aliases, value_aliases, own_given)
    except FactsError as exc:
        problems.extend(exc.problems)
    lists = {}
    for k in listed:
        raw = facts[k]
        if not isinstance(raw, list):
            problems.append((k, f'应为列表，每个元素是一个{k}的事实（对象）'))
            continue
        kind_inputs = {n: inputs[n] for n in records[k][1]}
        out = []
        for i, rec in enumerate(raw, 1):
            where = f'{k}[{i}]'
            if not isinstance(rec, dict):
                problems.append((where, f'应为一个对象（{k}的输入名称到值的映射）'))
                continue
            label = rec.get(LABEL_KEY)
            if label is not None and not isinstance(label, str):
                problems.append((f'{where}.{LABEL_KEY}', '应为文字'))
            try:
                v = coerce_facts(kind_inputs, {n: x for n, x in rec.items() if n != LABEL_KEY}, aliases,
                                 value_aliases, given.setdefault((k, i), set()))
            except FactsError as exc:
                problems.extend((f'{where}.{n}' if n else where, m) for n, m in exc.problems)
                continue
            v[LABEL_KEY] = label if isinstance(label, str) else ''
            out.append(v)
        lists[k] = out
    if problems:
        raise FactsError(problems)
    return base, lists


def _record_name(kind, index, label):
    return f'{kind}{index}' + (f'「{label}」' if label else '')


def _summary(r):
    if r['outcome'] in (AMOUNT, CEILING) and r['amount'] is not None:
        word = '最高可获 ' if r['outcome'] == CEILING else ''
        v = r['paid'] if r['paid'] is not None else r['amount']
        s = word + format_money(v)
        if v != r['amount']:
            s += f'（计算为 {format_money(r["amount"])}）'
        return s
    return '不适用' + (f'（{r["detail"]}）' if r['detail'] else '') if r['outcome'] == NOT_APPLICABLE \
        else (r['detail'] or r['outcome'])


def _value(r):
    if r['outcome'] not in (AMOUNT, CEILING) or r['amount'] is None:
        return Decimal(0)
    return r['paid'] if r['paid'] is not None else r['amount']


def _record_groups(groups_meta, per_item, kinds_of, explain):
    """就高 per record: for each record, keep the highest member; returns group result dicts."""
    results = []
    for g in groups_meta:
        kind = g['per_record']
        members = [m for m in g['members'] if m in per_item]
        n = len(per_item[members[0]]) if members else 0
        best_total = Decimal(0)
        notes, set_aside = [], []
        winners = set()
        for j in range(n):
            recs = [(m, per_item[m][j]) for m in members]
            cands = [(m, r, _value(r)) for m, r in recs if _value(r) > 0]
            if not cands:
                continue
            wm, _wr, wv = max(cands, key=lambda x: x[2])          # first of equals wins
            winners.add(wm)
            best_total += wv
            losers = [m for m, _r, v in cands if m != wm]
            for m, r, _v in cands:
                if m != wm:
                    r['paid'] = Decimal(0)
                    r['set_aside'] = True
                    if explain:
                        r['notes'].append(f'同一{kind}就高：已按「{wm}」执行，本项不重复享受')
                    if m not in set_aside:
                        set_aside.append(m)
            if explain:
                label = per_item[members[0]][j]['label']
                notes.append(f'{label}按「{wm}」{format_money(wv)}' +
                             ('，' + '、'.join(f'「{m}」' for m in losers) + '不重复享受' if losers else ''))
        res = {'name': g['name'], 'mode': 'highest', 'members': list(g['members']),
               'winner': next(iter(winners)) if len(winners) == 1 else None, 'set_aside': set_aside,
               'cap': None, 'before': best_total, 'total': best_total, 'note': ''}
        if explain:
            res['note'] = (f'同一{kind}仅享受其中一项（就高）：' + '；'.join(notes)) if notes else \
                f'没有{kind}在组内获得金额'
        results.append(res)
    return results


def _combine(name, info, recs, cap, kind, listed, explain):
    """The item's result from its per-record results: quota, sum, the applicant's cap."""
    if not listed and cap is None:             # flat facts: the one record is the item (as before)
        r = recs[0]
        r.pop('label', None)
        r['records'] = None
        if r['set_aside']:
            r['paid'] = Decimal(0)
        return r
    steps = []
    quota = info.get('quota')
    paying = [r for r in recs if _value(r) > 0]
    if quota and len(paying) > quota:
        keep = sorted(paying, key=lambda r: -_value(r))[:quota]
        for r in paying:
            if all(r is not k for k in keep):
                r['paid'] = Decimal(0)
                if explain:
                    r['notes'].append(f'每年名额 {quota} 个：按金额从高到低取前 {quota} 个{kind}，本{kind}未获名额')
        if explain:
            steps.append(f'符合条件的{kind} {len(paying)} 个，超过每年名额 {quota} 个：按金额从高到低取前 {quota} 个')
    outcomes = [r['outcome'] for r in recs]
    if AMOUNT in outcomes:
        outcome = AMOUNT
    elif CEILING in outcomes:
        outcome = CEILING
    elif recs and all(o == outcomes[0] for o in outcomes):
        outcome = outcomes[0]
    else:
        outcome = NOT_APPLICABLE
    amount, detail = None, ''
    valued = [r for r in recs if r['outcome'] in (AMOUNT, CEILING) and r['amount'] is not None]
    set_aside = bool(valued) and all(r['set_aside'] for r in valued if r['amount'] > 0) and \
        any(r['set_aside'] for r in valued)
    if outcome in (AMOUNT, CEILING):
        amount = sum((r['amount'] if set_aside else _value(r) for r in valued), Decimal(0))
    elif not recs:
        detail = f'没有填写任何{kind}'
    else:
        detail = recs[0]['detail'] if not listed else '；'.join(
            f'{r["label"]}：{r["detail"]}' for r in recs if r['detail'])
    if listed and explain:
        for r in recs:
            steps.append(f'{r["label"]}：{_summary(r)}')
            steps.extend('    ' + s for s in r['steps'])
            steps.extend('    ' + s for s in r['notes'])
        if amount is not None:
            steps.append(f'各{kind}合计 {format_money(amount)}')
    elif not listed:
        steps = list(recs[0]['steps']) if recs else []
    if amount is not None and cap is not None and not set_aside:
        word, limit = cap
        if amount > limit:
            if explain:
                steps.append(f'{word} {format_money(limit)}：' +
                             (f'各{kind}合计 {format_money(amount)} 超过上限，按 {format_money(limit)} 计'
                              if listed else f'{format_money(amount)} 超过上限，按 {format_money(limit)} 计'))
            remaining = limit
            for r in recs:
                v = _value(r)
                take = min(v, remaining)
                if take != v:
                    r['paid'] = take
                    if explain:
                        r['notes'].append(f'{word}：本{kind}由 {format_money(v)} 调整为 {format_money(take)}')
                remaining -= take
            amount = limit
        elif explain and listed:
            steps.append(f'{word} {format_money(limit)}：未超过')
    item = {'name': name, 'outcome': outcome, 'amount': amount, 'steps': steps, 'detail': detail,
            'set_aside': set_aside,
            'paid': None, 'notes': [] if listed or not recs else list(recs[0]['notes']),
            'records': [{'label': r['label'], 'outcome': r['outcome'], 'amount': r['amount'],
                         'paid': _value(r) if r['outcome'] in (AMOUNT, CEILING) else None,
                         'detail': r['detail'], 'steps': r['steps'], 'notes': r['notes'],
                         'set_aside': r['set_aside']} for r in recs] if listed else None}
    if item['set_aside']:
        item['paid'] = Decimal(0)
    return item


def evaluate_records(meta, inputs, records, item_table, groups_meta, firm_caps, facts, date=None, explain=True,
                     strict=False):
    """Evaluate one applicant with records.  ``firm_caps`` maps an item to (word, function of the
    applicant's facts giving the cap).  The result is the dict of :func:`evaluate_policy`, each
    item of a record kind listed in the facts carrying ``records`` (per-record results).  Every item
    (and every record's result) lists the facts it depends on that were not given; ``strict``: an
    item or record whose conditions rest on an unfilled fact is not computed (``missing_facts``)."""
    with _decimal.localcontext(CONTEXT):      # exact to the end, totals included
        return _evaluate_records(meta, inputs, records, item_table, groups_meta, firm_caps, facts, date, explain,
                                 strict)


def _evaluate_records(meta, inputs, records, item_table, groups_meta, firm_caps, facts, date, explain, strict):
    date = evaluation_date(date)
    given: dict = {}
    base, lists = split_record_facts(inputs, records, facts, meta.get('input_aliases'), meta.get('value_aliases'),
                                     given)
    deps = meta.get('item_inputs') or {}
    valid, validity_note, _s, _e = _validity(meta, date)
    items = {}
    per_item = {}
    with _decimal.localcontext(CONTEXT):
        for info, func in item_table:
            name = info['name']
            kind = info.get('per_record') or ''
            cond_deps, all_deps = deps.get(name, ((), ()))

            def run(F, gave):
                unfilled = _unfilled(inputs, all_deps, gave) if valid else []
                missing = _unfilled(inputs, cond_deps, gave) if strict and valid else []
                return run_item(name, func, F, explain, valid, validity_note, missing, unfilled)
            if not kind:
                items[name] = run(base, given[''])
                continue
            recs = []
            for j, rv in enumerate(lists.get(kind, [None]), 1):
                F = base if rv is None else {**base, **rv}
                r = run(F, given[''] if rv is None else given[''] | given.get((kind, j), set()))
                r['label'] = '' if rv is None else _record_name(kind, j, rv[LABEL_KEY])
                recs.append(r)
            per_item[name] = recs
        record_groups = [g for g in groups_meta if g.get('per_record')]
        by_record = {r['name']: r for r in _record_groups(record_groups, per_item, None, explain)} if valid else {}
        for info, _func in item_table:
            name = info['name']
            if name not in per_item:
                continue
            kind = info['per_record']
            cap = None
            if name in firm_caps and valid:
                word, fn = firm_caps[name]
                r = run_item(name, fn, base, False, True, '')
                if r['outcome'] in (AMOUNT, CEILING) and r['amount'] is not None:
                    cap = (word, r['amount'])
            items[name] = _combine(name, info, per_item[name], cap, kind, kind in lists, explain)
            if 'unfilled' not in items[name]:           # the facts any record left unfilled, once each
                seen: dict = {}
                for r in per_item[name]:
                    for n, d in r.get('unfilled', ()):
                        seen.setdefault(n, d)
                items[name]['unfilled'] = list(seen.items())
        group_results = []
        if valid:
            group_results = _apply_groups(groups_meta, items, explain)
            for res in group_results:
                if res['name'] in by_record:
                    for k in ('winner', 'set_aside', 'note'):
                        res[k] = by_record[res['name']][k]
                    res['before'] = by_record[res['name']]['before']
    values = dict(base)
    for k, recs in lists.items():
        values[k] = recs
    return finish_evaluation(meta, item_table, items, group_results, date, valid, validity_note, values)
