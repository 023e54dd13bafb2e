"""JSON Schema (draft 2020-12) of a policy's inputs."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from polc.dsl import money as M

# the facts grammar of polc.dsl.money, widened to full-width forms (digit limits are polc's check)
MONEY_PATTERN = M.schema_pattern(M.MONEY)
PERCENT_PATTERN = M.schema_pattern(M.PERCENT_SIGN, M.PERCENT_FRACTION)
INTEGER_PATTERN = M.schema_pattern(M.INTEGER)
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
        p = {'anyOf': [{'type': 'integer'}, {'type': 'string', 'pattern': INTEGER_PATTERN}],
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


def _properties(inputs: dict, names, aliases_of: dict, value_aliases: dict):
    """(properties, required, either, exclusive) of the inputs ``names``; each other spelling of a
    name (简/繁) is a property marked ``x-polc-alias-of``, at most one spelling may be given, and a
    required input may be given in any spelling."""
    props, required, either, exclusive = {}, [], [], {}
    for name in names:
        kind, values, default, desc = inputs[name]
        extra = value_aliases.get(name) or {}
        p = _property(kind, list(values) + [a for a in extra if a not in values], desc)
        if extra:
            p['x-polc-values'] = list(values)          # the declared spellings, for forms
        if default is None:
            if aliases_of.get(name):
                either.append({'anyOf': [{'required': [n]} for n in [name] + sorted(aliases_of[name])]})
            else:
                required.append(name)
        else:
            p['default'] = _default(default)
        props[name] = p
        for alias in sorted(aliases_of.get(name, ())):
            props[alias] = {**p, 'x-polc-alias-of': name,
                            'description': f'「{name}」的简繁另一写法' + (f'：{desc}' if desc else '')}
            exclusive[alias] = {'not': {'anyOf': [{'required': [n]} for n in [name] + sorted(aliases_of[name])
                                                  if n != alias]}}
    return props, required, either, exclusive


def schema_of(meta: dict, inputs: dict, records: dict | None = None) -> dict:
    """``inputs``: name -> (kind, enum values, default or None, description); ``records``: record kind ->
    (description, its input names).  A record's inputs may be given at the top level (one record, flat
    facts) or as a list under the kind's name, not both.

    Names and enumeration values are accepted in simplified and traditional spellings alike
    (``meta['input_aliases']``, ``meta['value_aliases']``, made by OpenCC when the policy is
    compiled)."""
    aliases_of: dict = {}
    for alias, name in (meta.get('input_aliases') or {}).items():
        aliases_of.setdefault(name, []).append(alias)
    value_aliases = meta.get('value_aliases') or {}
    props, required, either, exclusive = _properties(inputs, list(inputs), aliases_of, value_aliases)
    for kind, (desc, names) in (records or {}).items():
        rprops, rrequired, _either, _exclusive = _properties(inputs, names, aliases_of, value_aliases)
        rprops['名称'] = {'type': 'string', 'description': f'这个{kind}的名称（只用于说明）'}
        props[kind] = {'type': 'array', 'x-polc-type': '记录',
                       'description': (desc + '；' if desc else '') + f'逐个列出{kind}；只有一个时也可把{kind}的输入直接写在顶层',
                       'items': {'type': 'object', 'properties': rprops, 'required': rrequired,
                                 'additionalProperties': False}}
        required = [n for n in required if n not in names]
        exclusive[kind] = {'not': {'anyOf': [{'required': [n]} for n in names]}}
    out = {
        '$schema': 'https://json-schema.org/draft/2020-12/schema',
        'title': f'{meta.get("name", "")}：申请人事实',
        'description': '由 polc schema 从政策文件生成。金额单位为元；不接受负数、NaN 与无穷大。'
                       '名称与枚举值的简体、繁体写法通用（每项只给一种写法）。',
        'type': 'object',
        'properties': props,
        'required': required,
        'additionalProperties': False,
    }
    if either:
        out['allOf'] = either
    if exclusive:
        out['dependentSchemas'] = exclusive
    return out
