"""Building the AST for records (一个申请人、多个项目): ``记录``, ``每个 产品 输入``, ``项 … 每个 产品``,
``每家（每年）最高``, ``就高（…） 每个 产品`` and a case's record lines.  A mixin of :class:`ToAst`."""
from __future__ import annotations

from lark import Token, v_args

from polc.dsl import ast as A
from polc.dsl.build_exprs import _span_of


class RecordBuilder:
    @v_args(meta=True)
    def record_decl(self, meta, children):
        desc = self._string(children[1]) if len(children) > 1 else ''
        return A.RecordDecl(children[0], desc, span=_span_of(meta))

    def record_of(self, children):
        return ('record_of', children[0])

    def p_per_record(self, children):
        return ('per_record', children[0][1].text)

    def p_firm_cap(self, children):
        return ('firm_cap', (children[0], '每家最高'))

    def p_firm_cap_year(self, children):
        return ('firm_cap', (children[0], '每家每年最高'))

    @v_args(meta=True)
    def c_record(self, meta, children):
        kind = children[0]
        rest = children[1:]
        label = ''
        if rest and isinstance(rest[0], Token) and rest[0].type == 'STRING':
            label = self._string(rest[0])
            rest = rest[1:]
        return ('record', A.RecordFacts(kind, label, tuple(rest), span=_span_of(meta)))
