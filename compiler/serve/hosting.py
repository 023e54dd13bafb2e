"""Running the application: a structured access log line per request, reloading edited policies
(watchfiles, in a thread: the new version is swapped in whole, requests keep being answered)."""
from __future__ import annotations

import json
import logging
import threading
import time

access = logging.getLogger('polc.serve.access')
log = logging.getLogger('polc.serve')

ENV_CONFIG = 'POLC_SERVE_CONFIG'


class AccessLog:
    """Pure ASGI middleware: one JSON line per HTTP request (method, path, status, bytes, ms)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = {'status': None, 'bytes': 0}

        async def send_logged(message):
            if message['type'] == 'http.response.start':
                state['status'] = message['status']
            elif message['type'] == 'http.response.body':
                state['bytes'] += len(message.get('body', b''))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        except Exception:
            state['status'] = state['status'] or 500
            raise
        finally:
            if access.isEnabledFor(logging.INFO):
                client = scope.get('client')
                access.info(json.dumps({
                    'ts': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'method': scope['method'],
                    'path': scope['path'], 'status': state['status'], 'bytes': state['bytes'],
                    'ms': round((time.perf_counter() - start) * 1000, 3),
                    'client': client[0] if client else None}, ensure_ascii=False))


class Watcher:
    """Watches the served files and directories; each change of a .pol file reloads that policy."""

    def __init__(self, registry):
        self.registry = registry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='polc-reload', daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        import watchfiles
        roots = [str(p) for p in self.registry.roots]
        for changes in watchfiles.watch(*roots, stop_event=self._stop, debounce=200, step=50,
                                        watch_filter=lambda _change, path: path.endswith('.pol'),
                                        raise_interrupt=False):
            for _change, path in sorted(changes, key=lambda c: c[1]):
                try:
                    message = self.registry.reload(path)
                except Exception as exc:       # never let the watcher die on one bad file
                    message = f'重新加载 {path} 失败（{type(exc).__name__}: {exc}）'
                if message:
                    log.warning(message)

