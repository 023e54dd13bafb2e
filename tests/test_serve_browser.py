"""polc serve as a running process: the applicant page filled in by a real headless Chromium
(keyboard and DevTools input events), and a small load smoke test (zero errors, no timing)."""
import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip('httpx')
pytest.importorskip('uvicorn')

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / 'policies'
EXAMPLES = ['xiamen', 'zhangzhou', 'fuzhou', 'langfang']
DATE = '2025-06-01'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def server():
    port = _free_port()
    polc = str(Path(sys.executable).with_name('polc'))
    proc = subprocess.Popen([polc, 'serve', str(POLICIES), '--port', str(port), '--no-access-log'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f'http://127.0.0.1:{port}'
    try:
        end = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + '/healthz', timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                pytest.fail(f'polc serve did not start: {proc.stderr.read() if proc.poll() is not None else ""}')
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope='module')
def browser():
    from cdp import Browser, chromium
    exe = chromium()
    pytest.importorskip('websockets')
    b = Browser(exe)
    try:
        yield b
    finally:
        b.close()


def _control_id(b, name: str) -> str:
    fid = b.js(f'''(() => {{ const l = [...document.querySelectorAll('label')].find(
        l => l.textContent.replace('（必填）', '') === {json.dumps(name)}); return l ? l.htmlFor : null; }})()''')
    assert fid, f'no label for 「{name}」'
    return fid


def _fill(b, name: str, kind: str, value):
    fid = _control_id(b, name)
    b.js(f'document.getElementById({json.dumps(fid)}).focus()')
    assert b.js('document.activeElement.id') == fid
    if kind == 'bool':
        if value:
            b.key(' ', 'Space', 32, ' ')                     # the keyboard ticks the box
        assert b.js(f'document.getElementById({json.dumps(fid)}).checked') is bool(value)
        return
    if kind == 'enum':
        b.js(f'''(() => {{ const s = document.getElementById({json.dumps(fid)}); s.value = {json.dumps(value)};
                 s.dispatchEvent(new Event('change', {{bubbles: true}})); }})()''')
        assert b.js(f'document.getElementById({json.dumps(fid)}).value') == value
        return
    text = str(value)
    if kind == 'money' and text.endswith(('万元', '萬元')):
        text = text[:-2]                                 # typed as a number; the unit select says 万元
        assert b.js(f'document.getElementById({json.dumps(fid + "-unit")}).value') == '万元'
    elif kind == 'percent' and text.endswith('%'):
        text = text[:-1]
    b.type_text(text)
    assert b.js(f'document.getElementById({json.dumps(fid)}).value') == text


@pytest.mark.parametrize('pid', EXAMPLES)
def test_the_page_shows_the_totals_of_the_api(server, browser, pid):
    facts = json.loads((POLICIES / 'examples' / f'{pid}.json').read_text(encoding='utf-8'))
    inputs = {i['name']: i for i in httpx.get(f'{server}/v1/policies/{pid}').json()['inputs']}
    api = httpx.post(f'{server}/v1/policies/{pid}/evaluate', json={'facts': facts, 'date': DATE}).json()
    b = browser
    b.navigate(f'{server}/policies/{pid}')
    assert b.js('document.documentElement.lang') == 'zh-CN'
    # every control has a label (or an aria-label for the unit selects)
    unlabelled = b.js('''[...document.querySelectorAll('input,select')].filter(e =>
        !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)''')
    assert unlabelled == []
    for name, value in facts.items():
        _fill(b, name, inputs[name]['type'], value)
    b.js("(() => { const d = document.getElementById('f-date'); d.value = '%s'; })()" % DATE)
    b.js("document.getElementById('submit').focus()")
    b.events.clear()
    b.key('Enter', 'Enter', 13, '\r')                    # submitted from the keyboard
    b.wait_event('Page.loadEventFired')
    assert b.js("document.getElementById('errors')") is None, b.js("document.getElementById('errors').innerText")
    assert b.js("document.getElementById('total').dataset.value") == api['total']
    ceiling = b.js("(() => { const c = document.getElementById('ceiling-total'); return c ? c.dataset.value : null; })()")
    assert ceiling == (api['ceiling_total'] if api['ceilings'] else None)
    text = b.js("document.getElementById('result').innerText")
    # what the applicant qualifies for comes before the explanations, which carry 原文 and departments
    qualifies = b.js("document.getElementById('qualifies').innerText")
    for it in api['items']:
        if (it['outcome'] == 'amount' and it['paid'] != '0.00' and not it['set_aside']) or \
                it['outcome'] in ('deferred', 'case_by_case', 'non_cash') or \
                (it['outcome'] == 'ceiling' and it['ceiling'] not in (None, '0.00') and not it['set_aside']):
            assert it['name'] in qualifies
    assert text.index('可以享受') < text.index('各项说明') and '原文' in text
    assert '责任单位' in text or '牵头单位' in text
    unfilled = set(b.js("[...document.querySelectorAll('#unfilled li')].map(l => l.innerText.split('（')[0])"))
    expected = {n for n, i in inputs.items() if n not in facts and not i['required'] and i['type'] != 'bool'}
    assert unfilled == expected
    # the form stays filled in after submitting
    first_text = next((n for n, v in facts.items() if inputs[n]['type'] in ('money', 'int')), None)
    if first_text:
        assert b.js(f"document.getElementById('{_control_id(b, first_text)}').value") != ''


def test_the_page_shows_errors_next_to_the_field(server, browser):
    b = browser
    b.navigate(f'{server}/policies/zhangzhou')
    _fill(b, '年度算力服务费', 'text', '十万')
    b.js("document.getElementById('submit').focus()")
    b.events.clear()
    b.key('Enter', 'Enter', 13, '\r')
    b.wait_event('Page.loadEventFired')
    assert '无法读作金额' in b.js("document.getElementById('errors').innerText")
    fid = _control_id(b, '年度算力服务费')
    assert b.js(f"document.getElementById('{fid}').getAttribute('aria-invalid')") == 'true'


def test_index_lists_the_policies(server, browser):
    browser.navigate(server + '/')
    links = browser.js("[...document.querySelectorAll('a[href^=\"/policies/\"]')].map(a => a.getAttribute('href'))")
    assert sorted(links) == sorted(f'/policies/{p}' for p in EXAMPLES)


def test_load_smoke_zero_errors(server):
    """A few hundred concurrent requests against the running service: every answer right."""
    facts = json.loads((POLICIES / 'examples' / 'zhangzhou.json').read_text(encoding='utf-8'))
    body = {'facts': facts, 'date': DATE}
    expected = httpx.post(f'{server}/v1/policies/zhangzhou/evaluate', json=body).json()

    def worker(n):
        bad = 0
        with httpx.Client(base_url=server, timeout=30) as c:
            for _ in range(n):
                r = c.post('/v1/policies/zhangzhou/evaluate', json=body)
                bad += r.status_code != 200 or r.json() != expected
        return bad

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(worker, [40] * 8)) == 0
