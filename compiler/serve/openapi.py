"""``GET /openapi.json``: OpenAPI 3.1 generated from the policies' input schemas.

Every policy gets its own evaluate paths (``/v1/policies/xiamen/evaluate`` …) whose request body
names that policy's facts schema (the same JSON Schema as ``polc schema``), so a generated
client has one typed method per policy.  OpenAPI 3.1 uses JSON Schema 2020-12 as is.
"""
from __future__ import annotations

import re

from polc.compiler.schema import schema_of

MONEY = {'type': ['string', 'null'], 'pattern': r'^\d+\.\d{2}$', 'description': '金额（元），两位小数的字符串'}

ITEM = {'type': 'object', 'properties': {
    'name': {'type': 'string'}, 'clause': {'type': 'string'}, 'title': {'type': 'string'},
    'kind': {'type': 'string'},
    'outcome': {'enum': ['amount', 'ceiling', 'not_applicable', 'deferred', 'case_by_case', 'non_cash',
                         'no_amount']},
    'outcome_label': {'type': 'string'}, 'amount': MONEY, 'paid': MONEY, 'ceiling': MONEY,
    'detail': {'type': 'string'}, 'steps': {'type': 'array', 'items': {'type': 'string'}},
    'notes': {'type': 'array', 'items': {'type': 'string'}}, 'set_aside': {'type': 'boolean'},
    'source': {'type': 'array', 'items': {'type': 'string'}},
    'readings': {'type': 'array', 'items': {'type': 'string'}},
    'lead': {'type': 'array', 'items': {'type': 'string'}}, 'units': {'type': 'array', 'items': {'type': 'string'}},
    'quota': {'type': ['integer', 'null']}, 'pool': MONEY}}

RESULT = {'type': 'object', 'description': '与 polc eval --format json 输出的文档相同', 'properties': {
    'policy': {'type': 'string'}, 'date': {'type': 'string', 'format': 'date'}, 'valid': {'type': 'boolean'},
    'validity': {'type': 'string'}, 'items': {'type': 'array', 'items': {'$ref': '#/components/schemas/ItemResult'}},
    'groups': {'type': 'array', 'items': {'type': 'object'}},
    'totals': {'type': 'object', 'additionalProperties': MONEY}, 'total': MONEY,
    'ceilings': {'type': 'object', 'additionalProperties': MONEY}, 'ceiling_total': MONEY,
    'readings': {'type': 'array', 'items': {'type': 'string'}}, 'header': {'type': 'object'}},
    'required': ['policy', 'date', 'valid', 'validity', 'items', 'groups', 'totals', 'total', 'ceilings',
                 'ceiling_total']}

ERROR = {'type': 'object', 'properties': {
    'status': {'type': 'integer'}, 'code': {'type': 'string'}, 'message': {'type': 'string', 'description': '中文说明'},
    'field': {'type': ['string', 'null'], 'description': '出错的字段'},
    'problems': {'type': 'array', 'items': {'type': 'object', 'properties': {
        'field': {'type': ['string', 'null']}, 'message': {'type': 'string'}}}}},
    'required': ['status', 'code', 'message']}

DATE = {'type': 'string', 'format': 'date', 'description': '评估日期；不给为今天'}
EXPLAIN = {'type': 'boolean', 'default': True, 'description': 'false：不生成计算过程（steps、notes 为空）'}


def _errors(*codes) -> dict:
    text = {400: 'JSON 格式错误', 404: '没有这项政策', 413: '请求体过大（默认上限 1 MiB）', 422: '事实或字段有误'}
    return {str(c): {'description': text[c], 'content': {'application/json': {
        'schema': {'$ref': '#/components/schemas/Error'}}}} for c in codes}


def _json(schema) -> dict:
    return {'content': {'application/json': {'schema': schema}}}


def _op_id(pid: str) -> str:
    safe = re.sub(r'\W', '_', pid)
    return safe if safe.isascii() else 'p_' + pid.encode('utf-8').hex()


def openapi_document(registry) -> dict:
    schemas = {'ItemResult': ITEM, 'EvalResult': RESULT, 'Error': ERROR}
    paths = {
        '/healthz': {'get': {'operationId': 'healthz', 'summary': '健康检查', 'responses': {
            '200': {'description': '服务正常', **_json({'type': 'object', 'properties': {'status': {'const': 'ok'}}})}}}},
        '/v1/policies': {'get': {'operationId': 'listPolicies', 'summary': '全部政策：名称、发文机关、有效期、版本',
                                 'responses': {'200': {'description': '政策列表', **_json({'type': 'array'})}}}},
    }
    for pid, entry in sorted(registry.entries.items()):
        c = entry.compiled
        facts = schema_of(c.meta, c.inputs, c.records)
        facts.pop('$schema', None)
        name = f'Facts_{_op_id(pid)}'
        schemas[name] = facts
        ref = {'$ref': f'#/components/schemas/{name}'}
        title = c.meta.get('name', pid)
        base = f'/v1/policies/{pid}'
        paths[base] = {'get': {'operationId': f'policy_{_op_id(pid)}', 'summary': f'{title}：条款、项与输入',
                               'responses': {'200': {'description': '政策说明', **_json({'type': 'object'})},
                                             **_errors(404)}}}
        paths[base + '/schema'] = {'get': {'operationId': f'schema_{_op_id(pid)}',
                                           'summary': f'{title}：输入的 JSON Schema（同 polc schema）',
                                           'responses': {'200': {'description': 'JSON Schema', **_json(ref)}}}}
        paths[base + '/evaluate'] = {'post': {
            'operationId': f'evaluate_{_op_id(pid)}', 'summary': f'{title}：计算一个申请人',
            'requestBody': {'required': True, **_json({
                'type': 'object', 'properties': {'facts': ref, 'date': DATE, 'explain': EXPLAIN},
                'required': ['facts'], 'additionalProperties': False})},
            'responses': {'200': {'description': '计算结果（同 polc eval --format json）',
                                  **_json({'$ref': '#/components/schemas/EvalResult'})},
                          **_errors(400, 404, 413, 422)}}}
        paths[base + '/evaluate-batch'] = {'post': {
            'operationId': f'evaluateBatch_{_op_id(pid)}', 'summary': f'{title}：依次计算多个申请人',
            'requestBody': {'required': True, **_json({
                'type': 'object', 'properties': {'applicants': {'type': 'array', 'items': ref}, 'date': DATE,
                                                 'explain': EXPLAIN},
                'required': ['applicants'], 'additionalProperties': False})},
            'responses': {'200': {'description': '每个申请人一个结果，顺序同请求', **_json(
                {'type': 'array', 'items': {'$ref': '#/components/schemas/EvalResult'}})},
                **_errors(400, 404, 413, 422)}}}
    return {'openapi': '3.1.0',
            'info': {'title': 'polc 政策计算服务', 'version': _version(),
                     'description': '由 polc serve 从政策文件生成。金额为字符串（元，两位小数），从不使用浮点数。'},
            'jsonSchemaDialect': 'https://json-schema.org/draft/2020-12/schema',
            'paths': paths, 'components': {'schemas': schemas}}


def _version() -> str:
    import polc
    return polc.__version__
