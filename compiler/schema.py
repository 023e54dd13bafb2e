"""JSON Schema (draft 2020-12) of a policy's inputs."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

MONEY_PATTERN = r'^\s*[0-9０-９]+([.．][0-9０-９]+)?\s*(万|萬|亿|億)?\s*元?\s*$'
PERCENT_PATTERN = r'^\s*-?[0-9]+(\.[0-9]+)?\s*%?\s*$'
DATE_PATTERN = r'^\s*\d{4}-\d{1,2}-\d{1,2}\s*$|^\s*\d{4}年\d{1,2}月\d{1,2}日\s*$'


def _default(value):
    if isinstance(value, Decimal):
        return f'{value:f}'
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _property(kind: str, values, description: str) -> dict:
    if kind == 'money':
        p = {'anyOf': [{'type': 'integer', 'minimum': 0},
                       {'type': 'number', 'minimum': 0, 'multipleOf': 0.01},
                       {'type': 'string', 'pattern': MONEY_PATTERN}],
             'x-polc-type': '金额', 'x-unit': '元'}
    elif kind == 'percent':
        p = {'anyOf': [{'type': 'number'}, {'type': 'string', 'pattern': PERCENT_PATTERN}],
             'x-polc-type': '百分比',
             '$comment': '字符串 "12.5%"，或小数 0.125（即 12.5%）'}
    elif kind == 'int':
        p = {'anyOf': [{'type': 'integer'}, {'type': 'string', 'pattern': r'^\s*[+-]?\d+\s*$'}],
             'x-polc-type': '整数'}
    elif kind == 'bool':
        p = {'anyOf': [{'type': 'boolean'}, {'enum': ['是', '否']}], 'x-polc-type': '是否'}
    elif kind == 'date':
        p = {'type': 'string', 'pattern': DATE_PATTERN, 'x-polc-type': '日期'}
    else:
        p = {'type': 'string', 'enum': list(values), 'x-polc-type': '枚举'}
    if description:
        p['description'] = description
    return p


def _properties(inputs: dict, names) -> tuple[dict, list]:
    props, required = {}, []
    for name in names:
        kind, values, default, desc = inputs[name]
        p = _property(kind, values, desc)
        if default is None:
            required.append(name)
        else:
            p['default'] = _default(default)
        props[name] = p
    return props, required


def schema_of(meta: dict, inputs: dict, records: dict | None = None) -> dict:
    """``inputs``: name -> (kind, enum values, default or None, description); ``records``: record kind ->
    (description, its input names).  A record's inputs may be given at the top level (one record, flat
    facts) or as a list under the kind's name, not both."""
    props, required = _properties(inputs, list(inputs))
    dependent = {}
    for kind, (desc, names) in (records or {}).items():
        rprops, rrequired = _properties(inputs, names)
        rprops['名称'] = {'type': 'string', 'description': f'这个{kind}的名称（只用于说明）'}
        props[kind] = {'type': 'array', 'x-polc-type': '记录',
                       'description': (desc + '；' if desc else '') + f'逐个列出{kind}；只有一个时也可把{kind}的输入直接写在顶层',
                       'items': {'type': 'object', 'properties': rprops, 'required': rrequired,
                                 'additionalProperties': False}}
        required = [n for n in required if n not in names] if kind in props else required
        dependent[kind] = {'not': {'anyOf': [{'required': [n]} for n in names]}}
    out = {
        '$schema': 'https://json-schema.org/draft/2020-12/schema',
        'title': f'{meta.get("name", "")}：申请人事实',
        'description': '由 polc schema 从政策文件生成。金额单位为元；不接受负数、NaN 与无穷大。',
        'type': 'object',
        'properties': props,
        'required': required,
        'additionalProperties': False,
    }
    if dependent:
        out['dependentSchemas'] = dependent
    return out
