"""The applicant-level end of a policy's query: groups (就高 / 合计…最高) one ``WITH`` step each, in the
runtime's order (inner groups first), the applicant's caps (每家最高) after the 就高 per record, and the
final SELECT (outcome names, paid amounts, 合计).  Shared by the query over flat rows
(compiler/sql/generate.py) and the query over applicants with record tables (compiler/sql/records.py)."""
from __future__ import annotations

from polc.compiler.python import runtime as R
from polc.compiler.python.codegen_items import group_order
from polc.compiler.sql.basics import CODES, MONEY, SqlUnsupported, quote, string


def groups_and_result(g, policy, valid, ctes, keep, names, pcol, ocol, capped, ordered, records=False,
                      finish=None, split=False, types=None):
    """The rest of the query after the layer ``v0`` (keep, o*, p*, and c_p* for the ``capped`` items).
    ``records``: the per-record items were summed per applicant from record tables (their 就高 per record
    and caps already applied): a 就高 per record group is then the sum of what is left of its members.
    ``finish``, when given, is called with the last layer's name and returns (SQL joined after it,
    {item: [columns written after the item's 金额]}).  ``split``: (the ``WITH`` steps, the final SELECT)
    instead of the query's text.  ``types`` (the compact layout, :func:`compact_types`): the outcomes as
    their codes (TINYINT) and each amount and 合计 in the type given there."""
    layer = 'v0'
    # 3. groups, one step each, in the runtime's order (inner groups first)
    groups = group_order(policy) if valid else []
    by_name = {gr.name.text: gr for gr in groups}
    gcol = {gr.name.text: f'g{i}' for i, gr in enumerate(groups)}
    present = [pcol[n] for n in names] + [ocol[n] for n in names] + [f'c_{pcol[n]}' for n in capped]
    layer = 'v0'
    n_per = sum(1 for gr in groups if gr.per_record)
    for step, gr in enumerate(groups + [None]):
        if capped and (gr is None or step == n_per):
            # the applicant's caps (每家最高), after 就高 per record and before the other groups;
            # a 就高 per record keeps what is left of its members
            cur = {c: c for c in present}
            for n in capped:
                cur[pcol[n]] = f'CASE WHEN c_{pcol[n]} IS NOT NULL AND {pcol[n]} > c_{pcol[n]} THEN c_{pcol[n]} ' \
                    f'ELSE {pcol[n]} END'
            for pg in groups[:n_per]:
                cur[gcol[pg.name.text]] = ' + '.join(cur[pcol[m.text]] for m in pg.members)
            sel = list(keep) + [c if cur[c] == c else f'CAST({cur[c]} AS {MONEY}) AS {c}' for c in present]
            ctes.append(f'vc AS (SELECT {", ".join(sel)} FROM {layer})')
            layer = 'vc'
            capped = []
        if gr is None:
            break
        cur = {c: c for c in present}

        def val(m):
            return cur[pcol[m]] if m in pcol else cur[gcol[m]]

        def set_val(m, expr):
            cur[pcol[m] if m in pcol else gcol[m]] = expr

        def reduce(m, total):
            set_val(m, total)
            if m in by_name:
                before = []
                for k in (x.text for x in by_name[m].members):
                    v = val(k)
                    prefix = ' + '.join(before) or '0'
                    reduce(k, f'LEAST({v}, GREATEST({total} - ({prefix}), 0))')
                    before.append(v)

        def leaves(m):
            if m in by_name:
                out = [gcol[m]]
                for k in by_name[m].members:
                    out += leaves(k.text)
                return out
            return [pcol[m]]

        members = [m.text for m in gr.members]
        values = [val(m) for m in members]
        if records and gr.per_record:
            total = ' + '.join(values)
        elif gr.mode == 'highest':
            best = f'GREATEST(0, {", ".join(values)})'
            total = best
            for i, m in enumerate(members):
                earlier = ' OR '.join(f'{values[j]} = {best}' for j in range(i))
                winner = f'{values[i]} = {best}' + (f' AND NOT ({earlier})' if earlier else '')
                for col in leaves(m):
                    cur[col] = f'CASE WHEN {winner} THEN {cur[col]} ELSE 0 END'
        else:
            cap = g.constant(gr.cap)
            if cap is None:
                raise SqlUnsupported(f'组「{gr.name.text}」的上限不是常数，无法编译为 SQL')
            cap_sql = g.literal(cap)
            before = []
            for m, v in zip(members, values):
                prefix = ' + '.join(before) or '0'
                reduce(m, f'LEAST({v}, GREATEST({cap_sql} - ({prefix}), 0))')
                before.append(v)
            total = f'LEAST({" + ".join(values)}, {cap_sql})'
        cur[gcol[gr.name.text]] = total
        present.append(gcol[gr.name.text])
        sel = list(keep) + [c if cur[c] == c else f'CAST({cur[c]} AS {MONEY}) AS {c}' for c in present]
        ctes.append(f'v{step + 1} AS (SELECT {", ".join(sel)} FROM {layer})')
        layer = f'v{step + 1}'
    # 4. the result: outcome, paid amount (amount or ceiling), total of amounts
    joins, extra = finish(layer) if finish is not None else ('', {})
    out = [f'{layer}.{k}' for k in keep] if joins else list(keep)
    for n in names:
        named = ' '.join(f'WHEN {code} THEN {string(o)}' for o, code in CODES.items())
        paid = f"CASE WHEN {ocol[n]} IN ({CODES[R.AMOUNT]}, {CODES[R.CEILING]}) THEN {pcol[n]} END"
        if types:
            out.append(f'CAST({ocol[n]} AS TINYINT) AS {quote(n + ".结果")}')
            out.append(f'CAST({paid} AS {types[n]}) AS {quote(n + ".金额")}')
        else:
            out.append(f'CASE {ocol[n]} {named} END AS {quote(n + ".结果")}')
            out.append(f'{paid} AS {quote(n + ".金额")}')
        out += extra.get(n, [])
    total = ' + '.join(f"CASE WHEN {ocol[n]} = {CODES[R.AMOUNT]} THEN {pcol[n]} ELSE 0 END" for n in names) or '0'
    out.append(f'CAST({total} AS {types["合计"] if types else MONEY}) AS "合计"')
    select = (f'SELECT {", ".join(out)} FROM {layer}{joins}'
              + (f' ORDER BY {layer}."行号"' if ordered and joins else ' ORDER BY "行号"' if ordered else ''))
    if split:
        return ctes, select
    return 'WITH ' + ',\n'.join(ctes) + '\n' + select
