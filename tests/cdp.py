"""A tiny Chrome DevTools Protocol client for the browser tests: headless Chromium on localhost,
driven over its websocket (the `websockets` package); no internet, no driver binary."""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
import urllib.request


def chromium() -> str:
    """The Chromium executable, or skip the test (fail it under POLC_REQUIRE_CHROMIUM=1, as .ci/run
    sets): the one place the browser tests find their browser."""
    import os
    import shutil

    import pytest
    for name in ('chromium', 'chromium-browser'):
        exe = shutil.which(name)
        if exe:
            return exe
    if os.environ.get('POLC_REQUIRE_CHROMIUM') == '1':
        pytest.fail('POLC_REQUIRE_CHROMIUM=1 but Chromium is not installed (Debian: apt-get install chromium)')
    pytest.skip('Chromium is not installed (Debian: apt-get install chromium); '
                'set POLC_REQUIRE_CHROMIUM=1 to make this a failure')


class Browser:
    def __init__(self, exe: str):
        from websockets.sync.client import connect
        self._profile = tempfile.TemporaryDirectory(prefix='polc-chromium-')
        self.proc = subprocess.Popen(
            [exe, '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
             '--remote-debugging-port=0', '--remote-allow-origins=*', f'--user-data-dir={self._profile.name}',
             'about:blank'], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        end = time.monotonic() + 60
        while time.monotonic() < end and port is None:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError('chromium exited before listening')
            m = re.search(r'DevTools listening on ws://[^:]+:(\d+)/', line)
            if m:
                port = int(m.group(1))
        if port is None:
            raise RuntimeError('chromium did not start its DevTools server')
        targets = json.loads(urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list', timeout=10).read())
        page = next(t for t in targets if t['type'] == 'page')
        self.ws = connect(page['webSocketDebuggerUrl'], max_size=None, open_timeout=30).__enter__()
        self._id = 0
        self.events: list = []
        self.call('Page.enable')
        self.call('Runtime.enable')

    def call(self, method: str, **params):
        self._id += 1
        self.ws.send(json.dumps({'id': self._id, 'method': method, 'params': params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get('id') == self._id:
                if 'error' in msg:
                    raise RuntimeError(f'{method}: {msg["error"]}')
                return msg.get('result', {})
            self.events.append(msg)

    def wait_event(self, name: str, timeout: float = 60):
        end = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get('method') == name:
                    del self.events[: i + 1]
                    return e
            self.events.clear()
            self.events.append(json.loads(self.ws.recv(timeout=max(0.1, end - time.monotonic()))))

    def js(self, expression: str):
        r = self.call('Runtime.evaluate', expression=expression, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r:
            raise RuntimeError(f'JS error: {r["exceptionDetails"]}')
        return r['result'].get('value')

    def navigate(self, url: str):
        self.events.clear()
        self.call('Page.navigate', url=url)
        self.wait_event('Page.loadEventFired')

    def type_text(self, text: str):
        self.call('Input.insertText', text=text)

    def key(self, key: str, code: str, keycode: int, text: str = ''):
        common = dict(key=key, code=code, windowsVirtualKeyCode=keycode, nativeVirtualKeyCode=keycode)
        self.call('Input.dispatchKeyEvent', type='keyDown', text=text, **common)
        self.call('Input.dispatchKeyEvent', type='keyUp', **common)

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self._remove_profile()

    def _remove_profile(self):
        """Chromium's helper processes may still be writing to the profile for a moment after the
        browser exits: retry, then leave what is left to the system's temporary folder."""
        import shutil
        for _ in range(50):
            try:
                shutil.rmtree(self._profile.name)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
        else:
            shutil.rmtree(self._profile.name, ignore_errors=True)
