"""Code generation, part 2: amounts, items, definitions, the typed fast path and the groups."""
from __future__ import annotations


from polc.dsl import ast as A
from polc.compiler.python.emitter import Emitter
from polc.compiler.python.codegen_exprs import EXACT_TERMS, ExprGen
from polc.compiler.python.runtime import validity_bounds


class ItemGen(ExprGen):
    # ---------------------------------------------------------------- amounts
    def is_rate_based(self, am) -> bool:
        for n in A.walk(am):
            if isinstance(n, A.BinOp) and n.op == '*' and (
                    self.t(n.left) == 'percent' or self.t(n.right) == 'percent'):
                return True
        return False

    def amount(self, out: Emitter, am, item: A.Item) -> None:
        if isinstance(am, A.Tiers):
            reasons = []
            for i, tier in enumerate(am.tiers):
                out.line(f'{"if" if i == 0 else "elif"} {self.pure(tier.condition)}:')
                with out.indent():
                    out.line(f'if X: S.append("适用第{i + 1}档：「" + {self.src(tier.condition)!r} + "」")')
                    self.amount(out, tier.amount, item)
                reasons.append(tier.condition)
            out.line('else:')
            with out.indent():
                if am.otherwise is not None:
                    out.line('if X: S.append("不满足前列各档，适用「否则」")')
                    self.amount(out, am.otherwise, item)
                else:
                    subject = ' + "；" + '.join(self.condition_failure(c) for c in reasons)
                    out.line(f'return (_R.NOT_APPLICABLE, None, S, "不属于任何一档：" + {subject})')
            return
        if isinstance(am, A.CaseByCase):
            out.line('return (_R.CASE_BY_CASE, None, S, "按“一事一议”原则确定")')
            return
        if isinstance(am, A.Deferred):
            out.line(f'return (_R.DEFERRED, None, S, {("按规定享受" + am.target)!r})')
            return
        if isinstance(am, A.NonCash):
            out.line(f'return (_R.NON_CASH, None, S, {am.benefit!r})')
            return
        if isinstance(am, A.NoAmount):
            out.line(f'return (_R.NO_AMOUNT, None, S, {(am.note or "本措施未设定金额")!r})')
            return
        if isinstance(am, A.ExplicitNA):
            out.line(f'return (_R.NOT_APPLICABLE, None, S, {(am.note or "按本项规定不适用")!r})')
            return
        if isinstance(am, A.Ceiling):
            v, dv = self.value(out, am.value)
            out.line(f'if X: S.append("最高可获 " + {self.fmt(v, "money")})')
            out.line(f'return (_R.CEILING, {v}, S, "原文规定为最高额，实际金额以审核为准")')
            return
        v, dv = self.value(out, am)
        if self.rates_are_maxima and self.is_rate_based(am):
            out.line(f'if X: S.append("本措施规定的奖补百分比均指最高比例：最高可获 " + {self.fmt(v, "money")})')
            out.line(f'return (_R.CEILING, {v}, S, "奖补百分比为最高比例，实际金额以审核为准")')
            return
        if v.startswith('_K') or v.startswith('_v'):
            out.line(f'if X: S.append("给予 " + {dv})')
        out.line(f'return (_R.AMOUNT, {v}, S, "")')

    # ---------------------------------------------------------------- the typed fast path
    def fast_amount(self, out: Emitter, am, i: int) -> None:
        """Statements setting o{i} (outcome) and a{i} (amount or None), without explanation."""
        o, a = f'o{i}', f'a{i}'
        if isinstance(am, A.Tiers):
            known: set = set()            # bounds that earlier tiers have shown false
            for k, tier in enumerate(am.tiers):
                out.line(f'{"if" if k == 0 else "elif"} {self.tier_condition(tier.condition, known)}:')
                with out.indent():
                    self.fast_amount(out, tier.amount, i)
            out.line('else:')
            with out.indent():
                if am.otherwise is not None:
                    self.fast_amount(out, am.otherwise, i)
                else:
                    out.line(f'{o} = _NA; {a} = None')
            return
        simple = {A.CaseByCase: '_CBC', A.Deferred: '_DEFR', A.NonCash: '_NONC', A.NoAmount: '_NOAM',
                  A.ExplicitNA: '_NA'}
        if type(am) in simple:
            out.line(f'{o} = {simple[type(am)]}; {a} = None')
        elif isinstance(am, A.Ceiling):
            out.line(f'{o} = _CEIL; {a} = {self.pure(am.value)}')
        elif self.rates_are_maxima and self.is_rate_based(am):
            out.line(f'{o} = _CEIL; {a} = {self.pure(am)}')
        else:
            out.line(f'{o} = _AMT; {a} = {self.pure(am)}')
            if isinstance(i, int):          # (not a firm cap: c{i})
                self.paying.add(i)

    def tier_condition(self, cond, known: set) -> str:
        """A tier's condition without the comparisons that earlier tiers already decided: after
        ``x >= 10亿`` failed, ``x < 10亿`` in the next tier is true and is not tested again.
        ``known`` collects (subject, operator, bound) comparisons known true from here on."""
        if not isinstance(cond, A.Range):
            return self.pure(cond)
        x = self.pure(cond.subject)
        parts = []
        for bound, ops in ((cond.low, ('>=', '>')), (cond.high, ('<=', '<'))):
            if bound is None:
                continue
            op = ops[0] if bound.inclusive else ops[1]
            comparison = (x, op, self.pure(bound.value))
            if comparison not in known:
                parts.append(' '.join(comparison))
        if (cond.low is None) != (cond.high is None):          # one-sided: its negation holds later
            bound = cond.low or cond.high
            op = {'>=': '<', '>': '<=', '<=': '>', '<': '>='}[
                ('>=' if bound.inclusive else '>') if cond.low is not None else ('<=' if bound.inclusive else '<')]
            known.add((x, op, self.pure(bound.value)))
        return '(' + ' and '.join(parts) + ')' if parts else 'True'

    def typed_function(self, out: Emitter, items, json: bool = False) -> None:
        """``evaluate_typed(F, date)``; with ``json``, ``evaluate_json(facts, date)`` instead: the
        same body after generated coercion of JSON-style facts (polc.compiler.python.fast)."""
        before = len(self.const_lines)
        self.typed = True
        try:
            self._typed_function(out, items, json)
        finally:
            self.typed = False
        self.typed_new_consts = len(self.const_lines) - before

    def _typed_function(self, out: Emitter, items, json: bool = False) -> None:
        names = tuple(it.name.text for _c, it in items)
        out.line(f'_NAMES = {names!r}')
        out.line('_START, _END = _R.validity_bounds(META)')
        out.line('_AMT, _CEIL, _NA = _R.AMOUNT, _R.CEILING, _R.NOT_APPLICABLE')
        out.line('_CBC, _DEFR, _NONC, _NOAM = _R.CASE_BY_CASE, _R.DEFERRED, _R.NON_CASH, _R.NO_AMOUNT')
        out.line("_Z, _ZF, _FENQ = _D(0), _D('0.00'), _D('0.01')")
        out.line('from decimal import ROUND_HALF_UP as _HUP')
        out.line()
        if json:
            from polc.compiler.python.fast import coerce_lines, lazy_money, switching_lines
            inputs = [(self.input_var[d.name.text], d.name.text, d.type.kind) for d in self.p.inputs]
            lazy = not self.p.defines           # (definitions read the facts' dict, every value in it)
            out.lines.extend(coerce_lines(inputs, lazy))
            self.lazy = lazy_money(inputs) if lazy else {}
            head = len(out.lines) - 1
            while not out.lines[head].startswith('def evaluate_json('):
                head -= 1
            if self.p.defines:                  # definitions are functions of the facts' dict
                out.line('    F = {' + ', '.join(f'{d.name.text!r}: {self.input_var[d.name.text]}'
                                                for d in self.p.inputs) + '}')
            self.exact, self.context_free = True, True
            try:
                self._typed_body(out, items, None)
            finally:
                self.exact, self.lazy = False, {}
            if not self.context_free:           # the body as _evaluate_json, called in the exact context
                out.lines[head] = out.lines[head].replace('def evaluate_json(', 'def _evaluate_json(', 1)
                out.line()
                out.lines.extend(switching_lines())
            return
        out.line('def evaluate_typed(F, date):')
        with out.indent():
            out.line('"""Typed facts (every input present, Decimal money) and a date -> '
                     '({item: (outcome, value)}, total). No checks, no explanation: the fast path."""')
        self._typed_body(out, items, 'F')

    def _typed_body(self, out: Emitter, items, facts) -> None:
        """The body of the typed path (its inputs read from ``facts``, or already in their
        variables when ``facts`` is None)."""
        with out.indent():
            start, end = validity_bounds({k: self.p.header_value(k) for k in ('issued', 'effective', 'expiry',
                                                                               'duration')})
            test = ' or '.join(t for t, bound in (('date < _START', start), ('date > _END', end)) if bound)
            if not facts:                  # the fast path of evaluate: the date read here
                from polc.compiler.python.fast import date_lines
                for line in date_lines(test):
                    out.line(line[4:])
            elif test:                     # only the ends the policy states are compared
                out.line(f'if {test}:')
                with out.indent():
                    out.line('return {n: (_NA, None) for n in _NAMES}, _Z')
            # no groups and no cap per firm: each item is paid as it is computed
            plain = not self.p.groups and not any(it.firm_cap is not None for _c, it in items)
            self.paying = set()             # the items whose outcome can be an amount
            used = []
            for _c, it in items:
                for n in self.used_inputs(it):
                    if n not in used:
                        used.append(n)
            for n in used if facts else ():
                out.line(f'{self.input_var[n]} = {facts}[{n!r}]')
            for i, (_c, it) in enumerate(items):
                out.line('try:')
                with out.indent():
                    if it.conditions:
                        cond = ' and '.join(self.pure(c) for c in it.conditions)
                        out.line(f'if not ({cond}):')
                        with out.indent():
                            out.line(f'o{i} = _NA; a{i} = None')
                        out.line('else:')
                        with out.indent():
                            self.fast_amount(out, it.amount, i)
                    elif it.amount is None:
                        out.line(f'o{i} = _NOAM; a{i} = None')
                    else:
                        self.fast_amount(out, it.amount, i)
                out.line('except _R.Inapplicable:')
                with out.indent():
                    out.line(f'o{i} = _NA; a{i} = None')
                out.line(f'if a{i} is not None:')          # round_fen, inline: half up, no -0.00, never < 0
                with out.indent():
                    out.line(f'a{i} = _qfen(a{i}, _FENQ)' if self.exact else f'a{i} = a{i}.quantize(_FENQ, _HUP)')
                    if plain:       # paid as computed; an amount of 0 is paid as 0 (as the runtime)
                        out.line(f'if a{i} <= _Z: a{i} = _Z')
                    else:
                        out.line(f'if a{i} <= _Z: a{i} = _Z if a{i} < _Z else _ZF')
            if plain:
                value = 'a'
            else:
                value = 'v'
                self.typed_groups(out, items)
                for i in range(len(items)):     # as the runtime: an amount of 0 kept as computed is paid as 0
                    out.line(f'if v{i} is a{i} and not v{i}: v{i} = _Z')
            if plain:
                # each amount is rounded to the fen (or is 0): 0 + a is a, digit for digit, so the
                # first amount is the total as it stands, and only further amounts are added
                paying = sorted(self.paying)
                out.line('_t = _Z' if len(paying) != 1 else
                         f'_t = a{paying[0]} if o{paying[0]} is _AMT and a{paying[0]} is not None else _Z')
                for k, i in enumerate(paying if len(paying) > 1 else ()):
                    add = f'_cadd(_t, a{i})' if self.exact else f'_t + a{i}'
                    out.line(f'if o{i} is _AMT and a{i} is not None: _t = {add if k else f"a{i}"}')
            else:
                out.line('_t = _Z')
                for i in sorted(self.paying):      # (an item that is never an amount adds nothing)
                    out.line(f'if o{i} is _AMT and a{i} is not None: _t = _cadd(_t, v{i})' if self.exact
                             else f'if o{i} is _AMT and a{i} is not None: _t += v{i}')
            if facts:
                entries = ', '.join(f'{it.name.text!r}: (o{i}, {value}{i})' if plain else
                                    f'{it.name.text!r}: (o{i}, None if a{i} is None else v{i})'
                                    for i, (_c, it) in enumerate(items))
                out.line(f'return {{{entries}}}, _t')
            else:
                entries = ', '.join(f'o{i}, {value}{i}' if plain else f'o{i}, None if a{i} is None else v{i}'
                                    for i in range(len(items)))
                from polc.compiler.python.fast import result_lines
                for line in result_lines(entries):
                    out.line(line[4:])

    def typed_groups(self, out: Emitter, items) -> None:
        """Straight-line code for 就高 and 合计…最高 (the runtime's _apply_groups, unrolled).
        v{i}: what item i contributes; g{j}: the current total of group j."""
        index = {it.name.text: i for i, (_c, it) in enumerate(items)}
        for i in range(len(items)):
            # a{i} is None unless the outcome is an amount or a ceiling
            out.line(f'v{i} = _Z if a{i} is None else a{i}')
        capped = [(i, it) for i, (_c, it) in enumerate(items) if it.firm_cap is not None]
        groups = {g.name.text: g for g in self.p.groups}
        gindex = {g.name.text: j for j, g in enumerate(group_order(self.p))}

        def val(m: str) -> str:
            return f'v{index[m]}' if m in index else f'g{gindex[m]}'

        def set_aside(m: str) -> None:
            if m in index:
                out.line(f'v{index[m]} = _Z')
            else:
                out.line(f'g{gindex[m]} = _Z')
                for mm in groups[m].members:
                    set_aside(mm.text)

        def reduce(m: str, amount: str) -> None:
            if m in index:
                out.line(f'v{index[m]} = {amount}')
                return
            j = gindex[m]
            out.line(f'g{j} = {amount}')
            r = self.new_tmp()
            out.line(f'{r} = g{j}')
            sequential(groups[m].members, r)

        def sequential(members, remaining: str) -> None:
            for mm in members:
                v, k = val(mm.text), self.new_tmp()
                out.line(f'{k} = {v} if {v} <= {remaining} else {remaining}')
                out.line(f'if {k} != {v}:')
                with out.indent():
                    reduce(mm.text, k)
                out.line(f'{remaining} = _csub({remaining}, {k})' if self.exact else f'{remaining} -= {k}')

        def firm_caps():
            # flat facts are one record: the applicant's cap bounds the item (after 就高 per record)
            for i, it in capped:
                out.line('try:')
                with out.indent():
                    self.fast_amount(out, it.firm_cap, f'c{i}')
                out.line('except _R.Inapplicable:')
                with out.indent():
                    out.line(f'ac{i} = None')
                out.line(f'if ac{i} is not None and (oc{i} is _R.AMOUNT or oc{i} is _R.CEILING):')
                with out.indent():
                    out.line(f'ac{i} = {"_xround_fen" if self.exact else "_R.round_fen"}(ac{i})')
                    out.line(f'if v{i} > ac{i}: v{i} = ac{i}')
            for g in per:      # a 就高 per record keeps what is left of its members
                out.line(f'g{gindex[g.name.text]} = ' + self.sum_code([val(m.text) for m in g.members]))

        ordered = group_order(self.p)
        per = [g for g in ordered if g.per_record]
        for g in per + [None] + [g for g in ordered if not g.per_record]:
            if g is None:
                firm_caps()
                continue
            j = gindex[g.name.text]
            members = [m.text for m in g.members]
            if g.mode == 'highest':
                w = self.new_tmp()
                out.line(f'g{j} = _Z; {w} = -1')
                for k, m in enumerate(members):
                    out.line(f'if {val(m)} > g{j}: g{j} = {val(m)}; {w} = {k}')
                for k, m in enumerate(members):
                    out.line(f'if {w} != {k} and {val(m)} > 0:')
                    with out.indent():
                        set_aside(m)
            else:
                cap = self.pure(g.cap)
                t = self.new_tmp()
                out.line(f'{t} = ' + self.sum_code([val(m) for m in members]))
                out.line(f'if {t} > {cap}:')
                with out.indent():
                    r = self.new_tmp()
                    out.line(f'{r} = {cap}')
                    sequential(g.members, r)
                    out.line(f'g{j} = {cap}')
                out.line('else:')
                with out.indent():
                    out.line(f'g{j} = {t}')

    def sum_code(self, terms: list[str]) -> str:
        """Code of the sum of amounts (in exact mode with the exact context named)."""
        if not self.exact or len(terms) < 2:
            return ' + '.join(terms)
        if len(terms) > EXACT_TERMS:
            self.context_free = False
            return ' + '.join(terms)
        text = terms[0]
        for t in terms[1:]:
            text = f'_cadd({text}, {t})'
        return text

    # ---------------------------------------------------------------- functions
    def used_inputs(self, node) -> list[str]:
        names = []
        for n in A.walk(node):
            if isinstance(n, A.Ref) and n.name in self.input_var and n.name not in names:
                names.append(n.name)
        return names

    def item_function(self, out: Emitter, index: int, item: A.Item) -> str:
        fn = f'_item{index}'
        out.line(f'def {fn}(F, X):')
        with out.indent():
            out.line('S = [] if X else None')
            for name in self.used_inputs(item):
                out.line(f'{self.input_var[name]} = F[{name!r}]')
            for cond in item.conditions:
                out.line(f'if not {self.pure(cond)}:')
                with out.indent():
                    out.line(f'return (_R.NOT_APPLICABLE, None, S, {self.condition_failure(cond)})')
                out.line(f'if X: S.append({self.condition_met(cond)})')
            if item.amount is None:
                out.line('return (_R.NO_AMOUNT, None, S, "本项未写金额")')
            else:
                self.amount(out, item.amount, item)
        out.line()
        return fn

    def define_function(self, out: Emitter, d: A.Define) -> None:
        fn = self.define_fn[d.name.text]
        out.line(f'def {fn}(F, X, S):')
        with out.indent():
            for name in self.used_inputs(d.expr):
                out.line(f'{self.input_var[name]} = F[{name!r}]')
            t = self.t(d.expr)
            if t == 'bool':
                out.line(f'return {self.pure(d.expr)}')
            else:
                v, dv = self.value(out, d.expr)
                out.line(f'if X: S.append({d.name.text!r} + " = " + {self.fmt(v, t)})')
                out.line(f'return {v}')
        out.line()


def group_order(p: A.Policy) -> list[A.Group]:
    """Groups with inner groups first (members before the groups that contain them); 就高 per
    record (``每个 产品``, whose members are items only) before all others."""
    per = [g for g in p.groups if g.per_record]
    return per + [g for g in _group_order(p) if not g.per_record]


def _group_order(p: A.Policy) -> list[A.Group]:
    by_name = {g.name.text: g for g in p.groups}
    done: list[A.Group] = []
    seen: set[str] = set()

    def visit(g: A.Group, path: frozenset):
        if g.name.text in seen or g.name.text in path:
            return
        for m in g.members:
            if m.text in by_name:
                visit(by_name[m.text], path | {g.name.text})
        seen.add(g.name.text)
        done.append(g)

    for g in p.groups:
        visit(g, frozenset())
    return done
