"""An on-disk cache for the parser tables and parsed policies, so ``polc check`` starts fast.

Location: $POLC_CACHE_DIR, else $XDG_CACHE_HOME/polc, else ~/.cache/polc.  POLC_NO_CACHE=1
turns it off.  Entries are keyed by a hash of the grammar, polc's version and the input, so
a stale entry is never used; an unwritable cache is silently skipped.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Optional

VERSION = '0.1.0'
MAX_ENTRIES = 400            # parsed policies kept; the oldest half goes when there are more


def cache_dir() -> Optional[Path]:
    if os.environ.get('POLC_NO_CACHE') == '1':
        return None
    base = os.environ.get('POLC_CACHE_DIR')
    if base:
        d = Path(base)
    else:
        xdg = os.environ.get('XDG_CACHE_HOME')
        d = (Path(xdg) if xdg else Path.home() / '.cache') / 'polc'
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return d if os.access(d, os.W_OK) else None


def key(*parts: str) -> str:
    h = hashlib.sha256(VERSION.encode())
    for p in parts:
        h.update(b'\0' + p.encode('utf-8', 'surrogatepass'))
    return h.hexdigest()[:40]


def load(name: str):
    d = cache_dir()
    if d is None:
        return None
    path = d / name
    try:
        with open(path, 'rb') as f:
            return pickle.load(f)
    except Exception:          # missing, truncated or from another version: ignore it
        return None


def store(name: str, value) -> None:
    d = cache_dir()
    if d is None:
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=d, prefix='.tmp-')
        with os.fdopen(fd, 'wb') as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, d / name)
        _evict(d)
    except Exception:
        try:
            os.unlink(tmp)
        except Exception:
            pass


def _evict(d: Path) -> None:
    entries = [e for e in os.scandir(d) if e.name.startswith('ast-')]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime)
    for e in entries[: len(entries) - MAX_ENTRIES // 2]:
        try:
            os.unlink(e.path)
        except OSError:
            pass
