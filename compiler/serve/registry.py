"""The policies a service serves: one entry per file, id = the file's stem, swapped whole on reload.

An edit that fails ``polc check`` leaves the last good version serving; its diagnostics are kept
on the entry and shown by ``GET /v1/policies/{id}``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
from pathlib import Path
from typing import Optional

import attrs

from polc.dsl.analysis import SourceError, analyze, read_source
from polc.dsl.diagnostics import error, has_errors, render

from polc.compiler.python.loader import CompiledPolicy, PolcError, compile_analysis
from polc.compiler.python.runtime import validity_bounds


class ServeError(Exception):
    """A policy set that cannot be served (no files, two files with one id); Chinese message."""


@attrs.frozen
class Entry:
    id: str
    path: str
    compiled: Optional[CompiledPolicy]      # the last good version (None: never compiled)
    version: str                            # sha256 of the serving source, first 16 hex digits
    loaded_at: str
    pending: tuple = ()                     # diagnostics (dicts) of a newer edit that failed
    pending_version: Optional[str] = None
    pending_text: str = ''                  # the rendered diagnostics, as polc check prints them

    def summary(self, today: Optional[dt.date] = None) -> dict:
        meta = self.compiled.meta
        start, end = validity_bounds(meta)
        today = today or dt.date.today()
        valid = (start is None or start <= today) and (end is None or today <= end)
        return {'id': self.id, 'name': meta.get('name', ''), 'issuer': meta.get('issuer'),
                'effective': start.isoformat() if start else None,
                'expiry': end.isoformat() if end else None, 'valid_today': valid,
                'version': self.version, 'status': meta.get('status'),
                'last_edit_failed': bool(self.pending)}


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:16]


def policy_paths(paths) -> list[Path]:
    """The .pol files named or found (recursively) under the directories given."""
    out = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(path.rglob('*.pol')))
        elif path.exists():
            out.append(path)
        else:
            raise ServeError(f'{p}：文件或目录不存在')
    return out


def compile_file(path: Path):
    """(compiled, text, diagnostics) — compiled is None when the file has errors."""
    try:
        text = read_source(path)
    except SourceError as exc:
        d = error('E-IO', exc.message, None).with_file(exc.file)
        return None, '', (d,)
    analysis = analyze(text, str(path))
    if has_errors(analysis.diagnostics):
        return None, text, analysis.diagnostics
    try:
        return compile_analysis(analysis), text, analysis.diagnostics
    except PolcError as exc:
        return None, text, exc.diagnostics


class Registry:
    """id -> Entry.  Reads take the dict as it is; a reload replaces one entry in one assignment."""

    def __init__(self, paths, strict: bool = True):
        self.roots = [Path(p) for p in paths]
        self.entries: dict[str, Entry] = {}
        self._lock = threading.Lock()
        files = policy_paths(self.roots)
        if not files:
            raise ServeError('没有找到 .pol 文件：' + '、'.join(str(p) for p in paths))
        seen: dict[str, Path] = {}
        problems = []
        for f in files:
            if f.stem in seen:
                raise ServeError(f'两个文件的编号相同（「{f.stem}」）：{seen[f.stem]} 与 {f}；编号取文件名，请改名')
            seen[f.stem] = f
            compiled, text, diags = compile_file(f)
            if compiled is None:
                problems.append('\n'.join(render(d, text or None) for d in diags))
                continue
            self.entries[f.stem] = Entry(f.stem, str(f), compiled, version_of(text), _now())
        if problems and strict:
            raise ServeError('\n'.join(problems) + '\n政策有错误，无法提供服务')

    def get(self, policy_id: str) -> Optional[Entry]:
        return self.entries.get(policy_id)

    def reload(self, path) -> Optional[str]:
        """Re-read one file after an edit; returns what happened (for the log) or None."""
        path = Path(path)
        if path.suffix != '.pol':
            return None
        with self._lock:
            pid = path.stem
            old = self.entries.get(pid)
            if old is not None and Path(old.path).resolve() != path.resolve():
                return f'忽略 {path}：编号「{pid}」已由 {old.path} 使用'
            if not path.exists():
                if old is not None:
                    del self.entries[pid]
                    return f'{path} 已删除：停止提供「{pid}」'
                return None
            compiled, text, diags = compile_file(path)
            version = version_of(text)
            if compiled is None:
                if old is None:
                    return f'{path} 有错误，未加载'
                self.entries[pid] = attrs.evolve(
                    old, pending=tuple(d.to_dict() for d in diags), pending_version=version,
                    pending_text='\n'.join(render(d, text or None) for d in diags))
                return f'{path} 的修改未通过检查：继续提供上一个正确版本 {old.version}'
            if old is not None and old.version == version and not old.pending:
                return None
            self.entries[pid] = Entry(pid, str(path), compiled, version, _now())
            return f'已加载 {path}（版本 {version}）'


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
