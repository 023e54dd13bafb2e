"""The language server, driven over stdio with LSP messages."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip('pygls')

SOURCE = ('政策：甲\n'
          '输入 营业收入：金额 "上一年度营业收入" 默认 0元\n'
          '条款 （一） 奖励\n'
          '  项 增长奖励\n'
          '    原文："按营业收入的3%给予奖励。"\n'
          '    金额：营业收入 × 3%\n'
          '    条件：营收 > 0元\n')


class Client:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, '-m', 'polc.lsp'], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0

    def send(self, method, params, request=True):
        msg = {'jsonrpc': '2.0', 'method': method, 'params': params}
        if request:
            self.next_id += 1
            msg['id'] = self.next_id
        body = json.dumps(msg, ensure_ascii=False).encode('utf-8')
        self.proc.stdin.write(b'Content-Length: %d\r\n\r\n' % len(body) + body)
        self.proc.stdin.flush()
        return msg.get('id')

    def read(self):
        headers = {}
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError(self.proc.stderr.read().decode())
            line = line.decode().strip()
            if not line:
                break
            k, v = line.split(':', 1)
            headers[k.lower()] = v.strip()
        return json.loads(self.proc.stdout.read(int(headers['content-length'])))

    def wait_for(self, pred, limit=50):
        for _ in range(limit):
            msg = self.read()
            if pred(msg):
                return msg
        raise AssertionError('no such message')

    def request(self, method, params):
        i = self.send(method, params)
        return self.wait_for(lambda m: m.get('id') == i)

    def close(self):
        try:
            self.request('shutdown', None)
            self.send('exit', None, request=False)
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def client():
    c = Client()
    c.request('initialize', {'processId': None, 'rootUri': None, 'capabilities': {}})
    c.send('initialized', {}, request=False)
    yield c
    c.close()


URI = 'file:///tmp/polc-lsp-test.pol'


def _open(client, text):
    client.send('textDocument/didOpen', {'textDocument': {'uri': URI, 'languageId': 'pol', 'version': 1,
                                                         'text': text}}, request=False)
    return client.wait_for(lambda m: m.get('method') == 'textDocument/publishDiagnostics')


def test_diagnostics_as_you_type(client):
    msg = _open(client, SOURCE)
    diags = msg['params']['diagnostics']
    undefined = [d for d in diags if d['code'] == 'E-UNDEFINED']
    assert len(undefined) == 1
    assert '营收' in undefined[0]['message']
    # 条件：营收 … is on line 7 (0-based 6); 营收 starts after "    条件：" = 7 characters
    assert undefined[0]['range']['start'] == {'line': 6, 'character': 7}
    client.send('textDocument/didChange', {'textDocument': {'uri': URI, 'version': 2},
                                           'contentChanges': [{'text': SOURCE.replace('营收 >', '营业收入 >')}]},
                request=False)
    msg = client.wait_for(lambda m: m.get('method') == 'textDocument/publishDiagnostics')
    assert msg['params']['diagnostics'] == []


def test_hover_shows_description_and_source(client):
    _open(client, SOURCE)
    # hover on 营业收入 in line 6 (0-based 5): "    金额：营业收入 × 3%"
    r = client.request('textDocument/hover', {'textDocument': {'uri': URI},
                                              'position': {'line': 5, 'character': 8}})
    assert '上一年度营业收入' in r['result']['contents']['value']
    assert '默认' in r['result']['contents']['value']


def test_go_to_definition(client):
    _open(client, SOURCE)
    r = client.request('textDocument/definition', {'textDocument': {'uri': URI},
                                                   'position': {'line': 5, 'character': 8}})
    assert r['result']['range']['start'] == {'line': 1, 'character': 3}


def test_completion_offers_keywords_and_names(client):
    _open(client, SOURCE)
    r = client.request('textDocument/completion', {'textDocument': {'uri': URI},
                                                   'position': {'line': 6, 'character': 7}})
    labels = {i['label'] for i in r['result']['items']}
    assert {'营业收入', '增长奖励', '最高', '条款', '达到'} <= labels


# ------------------------------------------------------------------ hostile frames
def _raw(client, data: bytes):
    import threading
    # a server that has gone deaf would leave the test waiting for ever: kill it after 120 s, so
    # the reads end (EOFError) and the test fails instead of hanging
    timer = threading.Timer(120, client.proc.kill)
    timer.daemon = True
    timer.start()
    client.proc.stdin.write(data)
    client.proc.stdin.flush()


def _hover_still_answered(client):
    """After the bad frame, a valid request must still be answered (the server is neither dead nor deaf)."""
    r = client.request('textDocument/hover', {'textDocument': {'uri': URI},
                                              'position': {'line': 5, 'character': 8}})
    assert '上一年度营业收入' in r['result']['contents']['value']


@pytest.mark.parametrize('header', [b'Content-Length: 99999999999', b'Content-Length: -5',
                                    b'Content-Length: abc', b'Content-Length: 1e3', b'Content-Length: '])
def test_a_bad_content_length_is_refused_and_the_server_keeps_serving(client, header):
    _open(client, SOURCE)
    body = json.dumps({'jsonrpc': '2.0', 'id': 999, 'method': 'shutdown'}).encode()
    _raw(client, header + b'\r\n\r\n' + body)
    err = client.wait_for(lambda m: 'error' in m and m.get('id') is None)
    assert err['error']['code'] == -32600 and 'Content-Length' in err['error']['message']
    _hover_still_answered(client)
    assert client.proc.poll() is None


def test_an_oversized_body_actually_sent_is_skipped_in_bounded_memory(tmp_path):
    """A frame over the limit whose body really follows (here 3 MB against a 1 MB limit) is
    refused, its bytes skipped, and the next message answered."""
    import os
    env = dict(os.environ, POLC_LSP_MAX_FRAME_BYTES=str(1024 * 1024))
    c = Client.__new__(Client)
    c.proc = subprocess.Popen([sys.executable, '-m', 'polc.lsp'], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    c.next_id = 0
    try:
        c.request('initialize', {'processId': None, 'rootUri': None, 'capabilities': {}})
        c.send('initialized', {}, request=False)
        _open(c, SOURCE)
        big = json.dumps({'jsonrpc': '2.0', 'method': 'x', 'params': {'t': 'a' * 3_000_000}}).encode()
        _raw(c, b'Content-Length: %d\r\n\r\n' % len(big) + big)
        err = c.wait_for(lambda m: 'error' in m and m.get('id') is None)
        assert '过大' in err['error']['message']
        _hover_still_answered(c)
    finally:
        c.close()


def test_a_body_that_is_not_json_is_answered_with_an_error(client):
    _open(client, SOURCE)
    _raw(client, b'Content-Length: 5\r\n\r\n{{{{{')
    err = client.wait_for(lambda m: 'error' in m and m.get('id') is None)
    assert err['error']['code'] == -32700
    _hover_still_answered(client)


def test_frame_problem_accepts_exactly_the_non_negative_lengths_up_to_the_limit():
    from hypothesis import given, strategies as st
    from polc.lsp import frame_problem

    @given(st.binary(max_size=20))
    def check(value):
        ok = value.isdigit() and int(value) <= 1000
        assert (frame_problem(value, 1000) is None) == ok

    check()
    assert frame_problem(b'1000', 1000) is None and frame_problem(b'1001', 1000) is not None
