"""Errors of the service as JSON with a Chinese message and the offending field; reading a request body."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Optional

from polc.compiler.facts import FactsFileError, _no_duplicates, _reject_constant

MAX_BODY = 1024 * 1024          # 1 MiB, documented in docs/commands/serve.md


class ApiError(Exception):
    """An HTTP error answered as ``{"status", "code", "message", "field", "problems"}``."""

    def __init__(self, status: int, code: str, message: str, field: Optional[str] = None,
                 problems: Optional[list] = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.problems = problems or ([{'field': field, 'message': message}] if field else [])

    def to_dict(self) -> dict:
        return {'status': self.status, 'code': self.code, 'message': self.message,
                'field': self.field, 'problems': self.problems}


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(',', ':'), default=_default).encode('utf-8')


try:                            # msgspec (the serve extra): the same bytes, about ten times faster
    import msgspec as _msgspec
    _encode_plain = _msgspec.json.Encoder().encode
except ImportError:             # pragma: no cover - installed with the serve extra
    _encode_plain = None


def dumps_plain(obj) -> bytes:
    """:func:`dumps` of a document made of str, int, bool, None, lists and dicts alone (no Decimal,
    no date: an evaluation document, ``CompiledPolicy.evaluate_document``), by msgspec when it is
    installed: byte for byte what :func:`dumps` gives (tests/test_document.py checks it)."""
    if _encode_plain is not None:
        return _encode_plain(obj)
    return dumps(obj)


def _default(value):
    if isinstance(value, Decimal):
        return f'{value:f}'
    if hasattr(value, 'isoformat'):
        return value.isoformat()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(type(value).__name__)


async def read_body(request, limit: int) -> bytes:
    """The request body, or 413 as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get('content-length')
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, 'E-REQUEST', '请求头 Content-Length 不是数字', 'Content-Length')
        if int(declared) > limit:
            raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, 'E-TOO-LARGE', f'请求体超过上限 {limit:,} 字节（可用 --max-body 调整）', 'body')


def parse_json(body: bytes):
    """JSON with numbers as int/Decimal (never float), duplicate keys refused; 400 otherwise."""
    if not body.strip():
        raise ApiError(400, 'E-JSON', '请求体为空，应为 JSON 对象', 'body')
    try:
        text = body.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        raise ApiError(400, 'E-JSON', f'请求体不是 UTF-8 编码（第 {exc.start} 字节）', 'body') from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant,
                          object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise ApiError(400, 'E-JSON', f'第 {exc.lineno} 行第 {exc.colno} 列：JSON 格式错误（{exc.msg}）',
                       'body') from None
    except FactsFileError as exc:
        raise ApiError(400, 'E-JSON', f'JSON 格式错误：{exc}', 'body') from None
    except RecursionError:
        raise ApiError(400, 'E-JSON', 'JSON 嵌套过深', 'body') from None
    except ValueError as exc:           # e.g. an integer of more digits than Python reads
        raise ApiError(400, 'E-JSON', f'JSON 中有无法读取的数（{exc}）', 'body') from None


def facts_error(exc, index=None) -> ApiError:
    """A FactsError as 422, the messages as ``polc eval`` prints them (「名称」：问题).
    ``index``: the applicant's place in a batch (fields become ``applicants[i].名称``)."""
    where = '' if index is None else f'applicants[{index}].'
    problems = [{'field': f'{where}{name}' if name else (where.rstrip('.') or None), 'message': msg}
                for name, msg in exc.problems]
    text = '；'.join(f'「{name}」：{msg}' if name else msg for name, msg in exc.problems)
    if index is not None:
        text = f'第 {index + 1} 个申请人：{text}'
    return ApiError(422, 'E-FACTS', text, problems[0]['field'] if problems else None, problems)
