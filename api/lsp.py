"""A language server for .pol files (``polc lsp``, stdio).

Diagnostics from ``polc check`` as you type; hover on an input, definition, item or
group shows its description and 原文; go to definition; completion of keywords and
declared names.  Positions are converted between polc's character columns and
LSP's UTF-16 code units.
"""
from __future__ import annotations

import json
import logging
import os
import re
from typing import Optional

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from polc.dsl import ast as A
from polc.dsl.analysis import analyze
from polc.dsl.checks import type_name
from polc.dsl.keywords import KEYWORDS, LEGAL_WORDS, POSTFIX_WORDS

SERVER_NAME = 'polc-lsp'
logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ positions
def _utf16_len(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def to_lsp(source_lines: list[str], line: int, col: int) -> T.Position:
    """polc 1-based line/column (characters) -> LSP 0-based line/UTF-16 character."""
    text = source_lines[line - 1] if 0 < line <= len(source_lines) else ''
    return T.Position(line=max(line - 1, 0), character=_utf16_len(text[:max(col - 1, 0)]))


def from_lsp(source_lines: list[str], pos: T.Position) -> tuple[int, int]:
    """LSP position -> polc 1-based line and column."""
    text = source_lines[pos.line] if pos.line < len(source_lines) else ''
    units, col = 0, 0
    for ch in text:
        if units >= pos.character:
            break
        units += 2 if ord(ch) > 0xFFFF else 1
        col += 1
    return pos.line + 1, col + 1


def span_range(lines: list[str], span: Optional[A.Span]) -> T.Range:
    if span is None:
        return T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=1))
    start = to_lsp(lines, span.line, span.col)
    if span.end_line == span.line and span.end_col > span.col:
        end = to_lsp(lines, span.end_line, span.end_col)
    else:
        end = T.Position(line=start.line, character=start.character + 1)
    return T.Range(start=start, end=end)


# ------------------------------------------------------------------ analysis
class DocumentIndex:
    """What is declared where, and which names are used where, in one document."""

    def __init__(self, source: str, file: str):
        self.source = source
        self.lines = source.split('\n')
        self.analysis = analyze(source, file)
        self.decls: dict[str, tuple[str, object]] = {}      # name -> (kind, node)
        self.uses: list[tuple[A.Span, str]] = []            # (span, name)
        p = self.analysis.policy
        if p is None:
            return
        for r in p.records:
            self.decls.setdefault(r.name.text, ('record', r))
        for d in p.inputs:
            self.decls.setdefault(d.name.text, ('input', d))
        for d in p.defines:
            self.decls.setdefault(d.name.text, ('define', d))
        for c, it in p.items():
            self.decls.setdefault(it.name.text, ('item', (c, it)))
        for g in p.groups:
            self.decls.setdefault(g.name.text, ('group', g))
        for node in A.walk(p):
            if isinstance(node, A.Ref) and node.span is not None:
                self.uses.append((node.span, node.name))
            elif isinstance(node, A.Name) and node.span is not None:
                self.uses.append((node.span, node.text))

    def name_at(self, line: int, col: int) -> Optional[str]:
        for span, name in self.uses:
            if span.line == line and span.col <= col < max(span.end_col, span.col + 1) \
                    and span.end_line == line:
                return name
        return None

    def hover(self, name: str) -> Optional[str]:
        if name not in self.decls:
            return None
        kind, node = self.decls[name]
        if kind == 'input':
            t = node.type
            ty = ('枚举（' + '、'.join(v.text for v in t.values) + '）') if t.kind == 'enum' else \
                type_name(t.kind)
            out = [f'**输入「{name}」**：{ty}' + (f'（每个{node.record}各填一个）' if node.record else '')]
            if node.description:
                out.append(node.description)
            out.append('必填' if node.default is None else f'默认：{self._src(node.default)}')
            return '\n\n'.join(out)
        if kind == 'record':
            names = [d.name.text for d in self.analysis.policy.record_inputs(name)]
            out = [f'**记录「{name}」**：申请人可有多个{name}，逐个列出（只有一个时可平铺在申请人的事实里）']
            if node.description:
                out.append(node.description)
            out.append(f'每个{name}的输入：' + ('、'.join(names) if names else '（无）'))
            return '\n\n'.join(out)
        if kind == 'define':
            out = [f'**定义「{name}」** = {self._src(node.expr)}']
            if node.description:
                out.append(node.description)
            return '\n\n'.join(out)
        if kind == 'item':
            c, it = node
            out = [f'**{c.number}{c.title} · 项「{name}」**' + (f'【{it.kind}】' if it.kind else '')]
            if it.per_record:
                out.append(f'每个{it.per_record}分别计算，再按申请人合计')
            if it.amount is not None:
                out.append('金额：' + self._src(it.amount))
            if it.firm_cap is not None:
                out.append(f'{it.firm_cap_word}：' + self._src(it.firm_cap))
            for s in it.source or c.source:
                out.append('原文：' + s)
            for r in it.readings:
                out.append('解读：' + r)
            return '\n\n'.join(out)
        g = node
        mode = ('每个' + g.per_record + '就高') if g.per_record else '就高' if g.mode == 'highest' else '合计上限'
        return f'**组「{name}」**（{mode}）：' + '、'.join(m.text for m in g.members)

    def _src(self, node) -> str:
        s = getattr(node, 'span', None)
        if s is None:
            return ''
        return ' '.join(self.source[s.start:s.end].split())

    def definition_span(self, name: str) -> Optional[A.Span]:
        if name not in self.decls:
            return None
        kind, node = self.decls[name]
        if kind in ('input', 'define', 'group', 'record'):
            return node.name.span or node.span
        return node[1].name.span or node[1].span

    def diagnostics(self) -> list[T.Diagnostic]:
        sev = {'error': T.DiagnosticSeverity.Error, 'warning': T.DiagnosticSeverity.Warning,
               'note': T.DiagnosticSeverity.Information}
        out = []
        for d in self.analysis.diagnostics:
            msg = d.message + (f'\n提示：{d.hint}' if d.hint else '')
            out.append(T.Diagnostic(range=span_range(self.lines, d.span), message=msg,
                                    severity=sev.get(d.severity, T.DiagnosticSeverity.Error),
                                    code=d.code, source='polc'))
        return out


def completion_words(index: Optional[DocumentIndex]) -> list[T.CompletionItem]:
    items = []
    seen = set()
    for spellings in KEYWORDS.values():
        w = spellings[0]
        if w not in seen:
            seen.add(w)
            items.append(T.CompletionItem(label=w, kind=T.CompletionItemKind.Keyword))
    for w in list(LEGAL_WORDS) + list(POSTFIX_WORDS):
        if w not in seen:
            seen.add(w)
            items.append(T.CompletionItem(label=w, kind=T.CompletionItemKind.Operator))
    if index is not None:
        kinds = {'input': T.CompletionItemKind.Variable, 'define': T.CompletionItemKind.Function,
                 'item': T.CompletionItemKind.Field, 'group': T.CompletionItemKind.Module,
                 'record': T.CompletionItemKind.Struct}
        for name, (kind, _node) in sorted(index.decls.items()):
            items.append(T.CompletionItem(label=name, kind=kinds[kind], detail=index.hover(name)))
    return items


# ------------------------------------------------------------------ the server
# ------------------------------------------------------------------ framing
# pygls reads ``Content-Length`` and then that many bytes, whatever the number: a header of
# 99999999999 asks for a 93 GiB body (MemoryError), and a negative or non-numeric one is never
# matched, so every later message is dropped.  polc reads the frames itself: a length must be a
# non-negative integer of at most MAX_FRAME_BYTES, header lines are read at most MAX_HEADER_LINE
# bytes at a time, and a bad frame is answered with a JSON-RPC error (id null) after which the
# reader looks for the next ``Content-Length`` header and keeps serving.
DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024
FRAME_LIMIT_VARIABLE = 'POLC_LSP_MAX_FRAME_BYTES'
MAX_HEADER_LINE = 8192
_CONTENT_LENGTH = re.compile(rb'content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?\n\Z', re.IGNORECASE)
INVALID_REQUEST = -32600


def max_frame_bytes() -> int:
    """The largest message body accepted: ``POLC_LSP_MAX_FRAME_BYTES`` or 64 MiB."""
    text = os.environ.get(FRAME_LIMIT_VARIABLE, '').strip()
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_FRAME_BYTES


def frame_problem(value: bytes, limit: int) -> Optional[str]:
    """Why a ``Content-Length`` value is refused (None when it is a length to read)."""
    text = value.decode('utf-8', 'replace')[:40]
    if not value.isdigit():
        return f'消息头 Content-Length「{text}」不是非负整数；已丢弃这条消息'
    if int(value) > limit:
        return (f'消息过大：Content-Length {text} 字节超过上限 {limit} 字节'
                f'（可用环境变量 {FRAME_LIMIT_VARIABLE} 调整）；已丢弃这条消息')
    return None


async def serve_frames(stop_event, stdin, protocol, executor=None, limit: Optional[int] = None) -> None:
    """The message loop of ``polc lsp`` over a binary stream: bounded, and deaf to nothing."""
    import asyncio
    loop = asyncio.get_running_loop()
    limit = max_frame_bytes() if limit is None else limit
    length: Optional[int] = None
    problem: Optional[str] = None
    while not stop_event.is_set():
        line = await loop.run_in_executor(executor, stdin.readline, MAX_HEADER_LINE)
        if not line:
            break
        match = _CONTENT_LENGTH.search(line)
        if match:                          # also found after the unread body of a bad frame
            problem = frame_problem(match.group(1), limit)
            length = None if problem else int(match.group(1))
            continue
        if line not in (b'\r\n', b'\n'):
            continue                       # Content-Type, or bytes of a discarded body
        if problem is not None:
            logger.error('%s', problem)
            protocol._send_data({'jsonrpc': '2.0', 'id': None,
                                 'error': {'code': INVALID_REQUEST, 'message': problem}})
            problem = None
            continue
        if length is None:
            continue
        expected, length = length, None
        body = await loop.run_in_executor(executor, stdin.read, expected)
        if len(body) < expected:           # the stream ended inside the body
            break
        try:
            message = json.loads(body, object_hook=protocol.structure_message)
            protocol.handle_message(message)
        except Exception as exc:           # a body that is not JSON-RPC: say so, keep serving
            logger.error('无法处理的消息：%s', exc)
            protocol._send_data({'jsonrpc': '2.0', 'id': None,
                                 'error': {'code': -32700, 'message': f'无法解析的消息（{type(exc).__name__}）'}})


class PolcLanguageServer(LanguageServer):
    """pygls's server with polc's bounded frame reader for stdio (:func:`serve_frames`)."""

    def start_io(self, stdin=None, stdout=None):
        import asyncio
        import sys
        import threading
        from pygls.io_ import StdoutWriter
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(serve_frames(self._stop_event, stdin or sys.stdin.buffer, self.protocol,
                                     self.thread_pool))
        except BrokenPipeError:
            logger.error('与编辑器的连接已断开')
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()


def make_server() -> LanguageServer:
    server = PolcLanguageServer(SERVER_NAME, 'v0.1')
    indexes: dict[str, DocumentIndex] = {}

    def refresh(ls: LanguageServer, uri: str) -> None:
        doc = ls.workspace.get_text_document(uri)
        index = DocumentIndex(doc.source, doc.path or uri)
        indexes[uri] = index
        ls.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=uri, diagnostics=index.diagnostics(), version=doc.version))

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: T.DidOpenTextDocumentParams):
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: T.DidChangeTextDocumentParams):
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LanguageServer, params: T.DidCloseTextDocumentParams):
        indexes.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls: LanguageServer, params: T.HoverParams):
        index = indexes.get(params.text_document.uri)
        if index is None:
            return None
        line, col = from_lsp(index.lines, params.position)
        name = index.name_at(line, col)
        text = index.hover(name) if name else None
        if not text:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text))

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: LanguageServer, params: T.DefinitionParams):
        index = indexes.get(params.text_document.uri)
        if index is None:
            return None
        line, col = from_lsp(index.lines, params.position)
        name = index.name_at(line, col)
        span = index.definition_span(name) if name else None
        if span is None:
            return None
        return T.Location(uri=params.text_document.uri, range=span_range(index.lines, span))

    @server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=['：', ' ']))
    def completion(ls: LanguageServer, params: T.CompletionParams):
        return T.CompletionList(is_incomplete=False,
                                items=completion_words(indexes.get(params.text_document.uri)))

    return server


def main() -> None:
    make_server().start_io()


if __name__ == '__main__':
    main()
