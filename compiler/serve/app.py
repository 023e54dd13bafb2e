"""The ASGI application: JSON endpoints, the applicant pages, errors as JSON, never a traceback.

    from polc.serve import app
    application = app(['policies/'])          # any ASGI server: uvicorn, hypercorn …

Endpoints (docs/commands/serve.md): /healthz, /v1/policies, /v1/policies/{id}, …/schema,
…/evaluate, …/evaluate-batch, /openapi.json, / and /policies/{id} (the applicant page).
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from polc.compiler.python.runtime import FactsError, parse_date
from polc.compiler.python.results import HEADER_LABELS, header_of
from polc.compiler.schema import schema_of
from polc.compiler.serve.errors import MAX_BODY, ApiError, dumps, dumps_plain, facts_error, parse_json, read_body
from polc.compiler.serve.registry import Registry

log = logging.getLogger('polc.serve')

TYPE_LABELS = {'money': '金额', 'percent': '百分比', 'int': '整数', 'bool': '是否', 'date': '日期',
               'enum': '枚举'}


def json_response(obj, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type='application/json')


def _entry(request: Request):
    pid = request.path_params['policy_id']
    entry = request.app.state.registry.get(pid)
    if entry is None:
        known = '、'.join(sorted(request.app.state.registry.entries)) or '（无）'
        raise ApiError(404, 'E-NOT-FOUND', f'没有编号为「{pid}」的政策；可用的政策：{known}', 'policy_id')
    return entry


def inputs_of(compiled) -> list[dict]:
    from polc.compiler.schema import _default
    return [{'name': name, 'type': kind, 'type_label': TYPE_LABELS.get(kind, kind), 'values': list(values),
             'default': _default(default), 'required': default is None, 'description': desc}
            for name, (kind, values, default, desc) in compiled.inputs.items()]


def items_of(compiled) -> list[dict]:
    out = []
    for info, _fn in compiled.namespace['ITEMS']:
        out.append({k: (list(v) if isinstance(v, tuple) else v) for k, v in info.items()
                    if k not in ('clause_key', 'allocation')})
    return out


def header_dict(compiled) -> dict:
    return {k: (v.isoformat() if hasattr(v, 'isoformat') else list(v) if isinstance(v, tuple) else v)
            for k, v in header_of(compiled.meta).items()}


# ------------------------------------------------------------------ JSON endpoints
async def healthz(request):
    return json_response({'status': 'ok'})


async def list_policies(request):
    reg = request.app.state.registry
    return json_response([e.summary() for e in sorted(reg.entries.values(), key=lambda e: e.id)])


async def policy_detail(request):
    entry = _entry(request)
    c = entry.compiled
    doc = entry.summary()
    doc.update({'header': header_dict(c), 'header_labels': HEADER_LABELS, 'readings': list(
        c.namespace.get('POLICY_READINGS', ())), 'items': items_of(c), 'inputs': inputs_of(c),
        'diagnostics': [d.to_dict() for d in c.diagnostics], 'loaded_at': entry.loaded_at})
    if entry.pending:
        doc['failed_edit'] = {'version': entry.pending_version, 'diagnostics': list(entry.pending),
                              'text': entry.pending_text,
                              'message': f'文件的最新修改未通过 polc check，仍在提供上一个正确版本 {entry.version}'}
    return json_response(doc)


async def policy_schema(request):
    c = _entry(request).compiled
    return json_response(schema_of(c.meta, c.inputs, c.records))


def _options(doc, allowed):
    if not isinstance(doc, dict):
        raise ApiError(422, 'E-REQUEST', f'请求体应为 JSON 对象，得到 {_json_type(doc)}', 'body')
    for key in doc:
        if key not in allowed:
            raise ApiError(422, 'E-REQUEST', f'未知字段「{key}」；可用字段：{"、".join(allowed)}', key)
    date = doc.get('date')
    if date is not None:
        if not isinstance(date, str) or parse_date(date) is None:
            raise ApiError(422, 'E-REQUEST', f'无法读作日期：{date!r}（应为 "2025-03-01"）', 'date')
    explain = doc.get('explain', True)
    if not isinstance(explain, bool):
        raise ApiError(422, 'E-REQUEST', f'explain 应为 true 或 false，得到 {explain!r}', 'explain')
    return date, explain


def _json_type(v) -> str:
    return {dict: '对象', list: '数组', str: '字符串', bool: '布尔值', type(None): 'null'}.get(type(v), '数')


async def evaluate(request):
    entry = _entry(request)
    doc = parse_json(await read_body(request, request.app.state.max_body))
    date, explain = _options(doc, ('facts', 'date', 'explain'))
    if 'facts' not in doc:
        raise ApiError(422, 'E-REQUEST', '缺少字段「facts」（申请人事实，JSON 对象）', 'facts')
    facts = doc['facts']
    if not isinstance(facts, dict):
        raise ApiError(422, 'E-FACTS', f'facts 应为 JSON 对象（名称到值），得到 {_json_type(facts)}', 'facts')
    try:
        document = entry.compiled.evaluate_document(facts, date=date, explain=explain)
    except FactsError as exc:
        raise facts_error(exc) from None
    return Response(dumps_plain(document), media_type='application/json')


async def evaluate_batch(request):
    entry = _entry(request)
    doc = parse_json(await read_body(request, request.app.state.max_body))
    date, explain = _options(doc, ('applicants', 'date', 'explain'))
    apps = doc.get('applicants')
    if not isinstance(apps, list):
        raise ApiError(422, 'E-REQUEST', '字段「applicants」应为数组，每个元素是一个申请人的事实', 'applicants')
    out = []
    evaluate_one = entry.compiled.evaluate_document     # the whole document is answered
    for i, facts in enumerate(apps):
        if not isinstance(facts, dict):
            raise ApiError(422, 'E-FACTS', f'第 {i + 1} 个申请人应为 JSON 对象，得到 {_json_type(facts)}',
                           f'applicants[{i}]')
        try:
            out.append(evaluate_one(facts, date=date, explain=explain))
        except FactsError as exc:
            raise facts_error(exc, i) from None
    return Response(dumps_plain(out), media_type='application/json')


async def openapi(request):
    from polc.compiler.serve.openapi import openapi_document
    return json_response(openapi_document(request.app.state.registry))


# ------------------------------------------------------------------ pages
async def index_page(request):
    from polc.compiler.serve.page import index_html
    return HTMLResponse(index_html(request.app.state.registry))


async def policy_page(request):
    from polc.compiler.serve.page import policy_html, submitted
    entry = _entry(request)
    if request.method == 'GET':
        return HTMLResponse(policy_html(entry))
    body = await read_body(request, request.app.state.max_body)
    status, html = submitted(entry, body)
    return HTMLResponse(html, status_code=status)


# ------------------------------------------------------------------ errors
async def api_error(request, exc: ApiError):
    return json_response(exc.to_dict(), exc.status)


_HTTP_MESSAGES = {404: '没有这个地址', 405: '此地址不支持该请求方法'}


async def http_error(request, exc: HTTPException):
    message = _HTTP_MESSAGES.get(exc.status_code, '请求无法处理')
    if exc.status_code == 404:
        message += f'：{request.url.path}（见 GET /openapi.json）'
    elif exc.status_code == 405:
        message += f'：{request.method} {request.url.path}'
    return json_response(ApiError(exc.status_code, f'E-HTTP-{exc.status_code}', message, 'path').to_dict(),
                         exc.status_code)


async def internal_error(request, exc: Exception):
    log.error('internal error on %s %s: %s: %s', request.method, request.url.path, type(exc).__name__, exc,
              exc_info=exc)
    return json_response(ApiError(500, 'E-INTERNAL', f'polc 内部错误（{type(exc).__name__}），请把请求报告给 '
                                  'polc 维护者', None).to_dict(), 500)


# ------------------------------------------------------------------ the application
def app(paths, *, reload: bool = False, max_body: int = MAX_BODY, access_log: bool = True,
        strict: bool = True) -> Starlette:
    """An ASGI application serving the .pol files in ``paths`` (files or directories).

    Raises :class:`~polc.compiler.serve.registry.ServeError` when there is nothing to serve, two
    files share an id, or (``strict``) a policy has errors."""
    registry = Registry(paths, strict=strict)
    routes = [
        Route('/healthz', healthz),
        Route('/v1/policies', list_policies),
        Route('/v1/policies/{policy_id}', policy_detail),
        Route('/v1/policies/{policy_id}/schema', policy_schema),
        Route('/v1/policies/{policy_id}/evaluate', evaluate, methods=['POST']),
        Route('/v1/policies/{policy_id}/evaluate-batch', evaluate_batch, methods=['POST']),
        Route('/openapi.json', openapi),
        Route('/', index_page),
        Route('/policies/{policy_id}', policy_page, methods=['GET', 'POST']),
    ]

    @asynccontextmanager
    async def lifespan(application):
        watcher = None
        if reload:
            from polc.compiler.serve.hosting import Watcher
            watcher = Watcher(registry)
            watcher.start()
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop()

    application = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        ApiError: api_error, HTTPException: http_error, Exception: internal_error})
    application.state.registry = registry
    application.state.max_body = max_body
    if access_log:
        from polc.compiler.serve.hosting import AccessLog
        application.add_middleware(AccessLog)
    return application


def from_env() -> Starlette:
    """The application for ``uvicorn --factory`` workers (``polc serve --workers N``): the
    configuration comes from $POLC_SERVE_CONFIG, written by the command."""
    import json
    import os
    from polc.compiler.serve.hosting import ENV_CONFIG
    config = json.loads(os.environ[ENV_CONFIG])
    return app(config['paths'], reload=config.get('reload', False), max_body=config['max_body'],
               access_log=config.get('access_log', True))
