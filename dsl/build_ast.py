"""Building the AST, part 2: header, declarations, items, clauses, cases, guarantees, and the
iterative tree walk (Lark tree -> AST)."""
from __future__ import annotations


from lark import Token, Tree, v_args


from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error
from polc.dsl.keywords import LEGAL_WORDS
from polc.dsl.numbers import money_value
from polc.dsl.build_exprs import ExprBuilder, _span_of
from polc.dsl.build_records import RecordBuilder


class ToAst(RecordBuilder, ExprBuilder):
    """Lark tree -> AST.  Problems found while building (bad dates …) go to ``self.diags``.

    :meth:`build` walks the tree iteratively (no recursion limit, and no per-node wrapper
    objects as Lark's ``v_args`` creates); the methods keep Lark's transformer conventions.
    """

    def __init__(self, original: str):
        super().__init__()
        self.original = original
        self.diags: list[Diagnostic] = []

    @classmethod
    def _dispatch(cls) -> dict:
        table = cls.__dict__.get('_TABLE')
        if table is None:
            import inspect
            from lark.visitors import _VArgsWrapper
            table = {}
            for name in dir(cls):
                if name.startswith('_'):
                    continue
                attr = inspect.getattr_static(cls, name)
                if isinstance(attr, _VArgsWrapper):
                    table[name] = (attr.base_func, True)
                elif inspect.isfunction(attr):
                    table[name] = (attr, False)
            cls._TABLE = table
        return table

    def build(self, tree: Tree):
        table = self._dispatch()
        out: list = []
        stack: list = [(tree, 0)]
        while stack:
            node, state = stack.pop()
            if state == 0:
                stack.append((node, 1))
                for c in reversed(node.children):
                    stack.append((c, 0) if isinstance(c, Tree) else (c, 2))
            elif state == 2:
                out.append(node)
            else:
                n = len(node.children)
                args = out[len(out) - n:] if n else []
                if n:
                    del out[len(out) - n:]
                entry = table.get(node.data)
                if entry is None:
                    out.append(Tree(node.data, args, node.meta))
                else:
                    func, wants_meta = entry
                    out.append(func(self, node.meta, args) if wants_meta else func(self, args))
        return out[0]

    # ---------------------------------------------------------------- header
    def _h(key):
        @v_args(meta=True)
        def f(self, meta, children):
            value = children[0] if children else True
            if isinstance(value, A.DateLit):
                value = value.value
            elif isinstance(value, Token):
                value = int(str(value))
            elif key == 'principle':
                value = tuple(value.children)
            return A.HeaderField(key, value, span=_span_of(meta))
        return f

    h_name = _h('name')
    h_issuer = _h('issuer')
    h_docno = _h('docno')
    h_issued = _h('issued')
    h_effective = _h('effective')
    h_expiry = _h('expiry')
    h_duration = _h('duration')
    h_stats_start = _h('stats_start')
    h_principle = _h('principle')
    h_rates_are_maxima = _h('rates_are_maxima')
    h_status = _h('status')
    h_shared_units = _h('shared_units')
    h_source_text = _h('source')
    h_reading = _h('reading')
    h_source_file = _h('source_file')
    h_conditions = _h('conditions')
    del _h

    def header(self, children):
        return children[0]

    # ---------------------------------------------------------------- declarations
    @v_args(meta=True)
    def t_money(self, meta, c):
        return A.TypeSpec('money', span=_span_of(meta))

    @v_args(meta=True)
    def t_percent(self, meta, c):
        return A.TypeSpec('percent', span=_span_of(meta))

    @v_args(meta=True)
    def t_int(self, meta, c):
        return A.TypeSpec('int', span=_span_of(meta))

    @v_args(meta=True)
    def t_bool(self, meta, c):
        return A.TypeSpec('bool', span=_span_of(meta))

    @v_args(meta=True)
    def t_date(self, meta, c):
        return A.TypeSpec('date', span=_span_of(meta))

    @v_args(meta=True)
    def t_enum(self, meta, c):
        return A.TypeSpec('enum', tuple(c[0]), span=_span_of(meta))

    def default(self, children):
        return ('default', children[0])

    @v_args(meta=True)
    def input_decl(self, meta, children):
        record = ''
        if isinstance(children[0], tuple):
            record = children[0][1].text
            children = children[1:]
        name, type_spec = children[0], children[1]
        desc, default = '', None
        for c in children[2:]:
            if isinstance(c, tuple):
                default = c[1]
            elif isinstance(c, Token):
                desc = self._string(c)
        return A.InputDecl(name, type_spec, desc, default, record, span=_span_of(meta))

    @v_args(meta=True)
    def define_decl(self, meta, children):
        name, _eq, expr = children[:3]
        desc = self._string(children[3]) if len(children) > 3 else ''
        return A.Define(name, expr, desc, span=_span_of(meta))

    def _prop(key):
        def f(self, children):
            return (key, children[0] if children else None)
        return f

    p_lead = _prop('lead')
    p_units = _prop('units')
    p_source = _prop('source')
    p_reading = _prop('reading')
    p_kind = _prop('kind')
    p_condition = _prop('condition')
    p_amount = _prop('amount')
    p_allocation = _prop('allocation')
    del _prop

    def p_quota(self, children):
        return ('quota', int(str(children[0])))

    def p_pool(self, children):
        tok = children[0]
        return ('pool', A.Money(money_value(str(tok)), str(tok), span=_span_of(tok)))

    def clause_prop(self, children):
        return children[0]

    def item_prop(self, children):
        return children[0]

    @v_args(meta=True)
    def item(self, meta, children):
        name = children[0]
        props = children[1:]
        kind, amount, quota, pool, allocation = '', None, None, None, ''
        per_record, firm_cap, firm_cap_word = '', None, ''
        source, readings, conds, lead, units = [], [], [], [], []
        for key, value in props:
            if key == 'lead':
                lead.extend(value)
            elif key == 'units':
                units.extend(value)
            elif key == 'kind':
                kind = value
            elif key == 'source':
                source.append(value)
            elif key == 'reading':
                readings.append(value)
            elif key == 'condition':
                conds.append(value)
            elif key == 'amount':
                if amount is not None:
                    self.diags.append(error('E-DUPLICATE-AMOUNT', f'项「{name.text}」写了两次「金额」',
                                            _span_of(meta)))
                amount = value
            elif key == 'quota':
                quota = value
            elif key == 'allocation':
                allocation = value
            elif key == 'pool':
                pool = value
            elif key == 'per_record':
                per_record = value
            elif key == 'firm_cap':
                firm_cap, firm_cap_word = value
        return A.Item(name, kind, tuple(source), tuple(readings), tuple(conds), amount, quota,
                      pool, tuple(lead), tuple(units), allocation, per_record, firm_cap, firm_cap_word,
                      span=_span_of(meta))

    @v_args(meta=True)
    def clause(self, meta, children):
        number = str(children[0]).strip()          # normalised: (二) / 二、 / 2.
        number = number.replace('(', '（').replace(')', '）')   # written the Chinese way: （二）、二（三）
        rest = children[1:]
        title = ''
        if rest and isinstance(rest[0], str) and not isinstance(rest[0], tuple):
            title = rest[0]
            rest = rest[1:]
        lead, units, source, readings, items, conds = [], [], [], [], [], []
        for c in rest:
            if isinstance(c, A.Item):
                items.append(c)
            else:
                key, value = c
                {'lead': lead, 'units': units}.get(key, []).extend(value) if key in (
                    'lead', 'units') else {'source': source, 'reading': readings,
                                           'condition': conds}[key].append(value)
        return A.Clause(number, title, tuple(lead), tuple(units), tuple(source), tuple(readings),
                        tuple(items), tuple(conds), span=_span_of(meta))

    @v_args(meta=True)
    def g_highest(self, meta, children):
        per_record = children[2][1].text if len(children) > 2 else ''
        return A.Group(children[0], 'highest', tuple(children[1]), None, per_record, span=_span_of(meta))

    @v_args(meta=True)
    def g_sum_cap(self, meta, children):
        return A.Group(children[0], 'sum_cap', tuple(children[1]), children[2],
                       span=_span_of(meta))

    # ---------------------------------------------------------------- cases
    @v_args(meta=True)
    def assignment(self, meta, children):
        return A.Assignment(children[0], children[2], span=_span_of(meta))

    def _e(kind):
        @v_args(meta=True)
        def f(self, meta, children):
            return (kind, children[0] if children else None, _span_of(meta))
        return f

    e_not_applicable = _e('not_applicable')
    e_case_by_case = _e('case_by_case')
    e_deferred = _e('deferred')
    e_non_cash = _e('non_cash')
    e_no_amount = _e('no_amount')
    e_set_aside = _e('set_aside')
    e_ceiling = _e('ceiling')
    e_amount = _e('amount')
    del _e

    @v_args(meta=True)
    def etarget(self, meta, children):
        if children:
            n = children[0]
            return A.Name('合计', span=n.span) if n.text == '合計' else n   # one name for the total
        return A.Name('合计', span=_span_of(meta))

    @v_args(meta=True)
    def expectation(self, meta, children):
        target, _eq, (kind, value, _s) = children
        return A.Expectation(target, kind, value, span=_span_of(meta))

    def c_date(self, children):
        return ('date', children[0])

    def c_inputs(self, children):
        return ('inputs', tuple(children))

    def c_expect(self, children):
        return ('expect', tuple(children))

    def case_prop(self, children):
        return children[0]

    @v_args(meta=True)
    def case(self, meta, children):
        title = children[0]
        date, inputs, expects, records = None, [], [], []
        for key, value in children[1:]:
            if key == 'date':
                date = value
            elif key == 'inputs':
                inputs.extend(value)
            elif key == 'record':
                records.append(value)
            else:
                expects.extend(value)
        return A.Case(title, date, tuple(inputs), tuple(expects), tuple(records), span=_span_of(meta))

    # ---------------------------------------------------------------- guarantees
    def gtarget(self, children):
        return children[0] if children else None

    @v_args(meta=True)
    def g_bound(self, meta, children):
        title = children[0] if len(children) == 4 else ''
        target, word, bound = children[-3], children[-2], children[-1]
        w = str(word)
        op = LEGAL_WORDS.get(w) or {'>=': '>=', '≥': '>=', '<=': '<=', '≤': '<=', '>': '>', '<': '<',
                                    '==': '==', '!=': '!=', '≠': '!='}.get(w, '==')
        return A.Guarantee(title, target, 'bound', op, w, bound, None, span=_span_of(meta))

    @v_args(meta=True)
    def g_monotone(self, meta, children):
        target, name = children[-2], children[-1]
        title = children[0] if len(children) == 3 else ''
        return A.Guarantee(title, target, 'monotone', '', '', None, name, span=_span_of(meta))

    # ---------------------------------------------------------------- policy
    @v_args(meta=True)
    def start(self, meta, children):
        header = tuple(c for c in children if isinstance(c, A.HeaderField))
        return A.Policy(
            header=header,
            inputs=tuple(c for c in children if isinstance(c, A.InputDecl)),
            defines=tuple(c for c in children if isinstance(c, A.Define)),
            clauses=tuple(c for c in children if isinstance(c, A.Clause)),
            groups=tuple(c for c in children if isinstance(c, A.Group)),
            cases=tuple(c for c in children if isinstance(c, A.Case)),
            guarantees=tuple(c for c in children if isinstance(c, A.Guarantee)),
            records=tuple(c for c in children if isinstance(c, A.RecordDecl)),
            span=_span_of(meta))
