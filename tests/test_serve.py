"""polc serve: every endpoint and every error, driven with an HTTP client (Starlette's TestClient).

Expected amounts are worked by hand from the policy texts; evaluate documents are compared with
what `polc eval --format json` prints for the same facts and date."""
import hashlib
import json
import logging
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip('starlette', reason="polc serve needs the serve extra: pip install -e '.[test]'")
pytest.importorskip('httpx')
from click.testing import CliRunner  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from polc.compiler.cli import cli  # noqa: E402
from polc.serve import ServeError, app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / 'policies'
EXAMPLES = ['xiamen', 'zhangzhou', 'fuzhou', 'langfang']


@pytest.fixture(scope='module')
def client():
    with TestClient(app([str(POLICIES)]), raise_server_exceptions=False) as c:
        yield c


def test_the_test_client_runs_on_httpx2_not_the_deprecated_httpx():
    # Starlette ≥ 1.10 warns (StarletteDeprecationWarning) when its TestClient falls back to httpx;
    # the test extra installs httpx2, which it prefers, so the test run has no such warning
    import inspect

    import starlette.testclient as tc
    if 'httpx2' in inspect.getsource(tc):
        assert tc.httpx.__name__ == 'httpx2'


def _cli_json(*args):
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.output


def _example(pid):
    return json.loads((POLICIES / 'examples' / f'{pid}.json').read_text(encoding='utf-8'))


def test_healthz(client):
    r = client.get('/healthz')
    assert r.status_code == 200 and r.json() == {'status': 'ok'}


def test_policy_list_names_dates_and_versions(client):
    docs = {d['id']: d for d in client.get('/v1/policies').json()}
    assert set(docs) == set(EXAMPLES)
    x = docs['xiamen']
    # 厦门: 印发日期 = 施行日期 2025-04-21, 有效期至 2027年12月31日 (policies/xiamen.pol header)
    assert (x['effective'], x['expiry']) == ('2025-04-21', '2027-12-31')
    assert x['issuer'] == '廈門市人民政府辦公廳'
    assert x['version'] == hashlib.sha256((POLICIES / 'xiamen.pol').read_bytes()).hexdigest()[:16]
    assert all(isinstance(d['valid_today'], bool) for d in docs.values())


def test_policy_detail_has_header_items_and_inputs(client):
    d = client.get('/v1/policies/xiamen').json()
    assert d['header']['effective'] == '2025-04-21'
    names = [i['name'] for i in d['items']]
    assert '企業算力券' in names and '高校科研機構算力券' in names
    inputs = {i['name']: i for i in d['inputs']}
    assert inputs['主體類型']['type'] == 'enum' and inputs['主體類型']['values'] == ['企業', '高校', '科研機構', '其他']
    assert inputs['年度營業收入']['type'] == 'money' and inputs['年度營業收入']['default'] == '0'
    assert 'failed_edit' not in d


def test_schema_is_polc_schema(client):
    for pid in EXAMPLES:
        code, out = _cli_json('schema', str(POLICIES / f'{pid}.pol'))
        assert code == 0
        assert client.get(f'/v1/policies/{pid}/schema').json() == json.loads(out)


@pytest.mark.parametrize('pid', EXAMPLES)
def test_evaluate_is_the_polc_eval_document(client, pid):
    code, out = _cli_json('eval', str(POLICIES / f'{pid}.pol'), '--facts',
                          str(POLICIES / 'examples' / f'{pid}.json'), '--date', '2025-06-01', '--format', 'json')
    assert code == 0
    r = client.post(f'/v1/policies/{pid}/evaluate', json={'facts': _example(pid), 'date': '2025-06-01'})
    assert r.status_code == 200 and r.headers['content-type'] == 'application/json'
    assert r.json() == json.loads(out)


def test_evaluate_amounts_by_hand(client):
    # 厦门（八）：年度营业收入 3亿元 在 1亿元（含）至 10亿元 → 最高 800万元 × 40% = 320万元，未超过 500万元
    r = client.post('/v1/policies/xiamen/evaluate', json={
        'facts': {'年度營業收入': '3億元', '算力服務費用': '800萬元'}, 'date': '2025-06-01'}).json()
    item = next(i for i in r['items'] if i['name'] == '企業算力券')
    assert item['outcome'] == 'ceiling' and item['ceiling'] == '3200000.00'
    assert r['total'] == '0.00' and r['ceiling_total'] == '3200000.00'
    # 漳州（二）：22万元 在 10万元（含）至 30万元（不含），第二年 40%（最高比例）→ 最高可获 8.8万元
    r = client.post('/v1/policies/zhangzhou/evaluate', json={
        'facts': {'年度算力服务费': 220000, '享受年度': 2}, 'date': '2025-06-01'}).json()
    assert r['ceiling_total'] == '88000.00' and r['total'] == '0.00'


def test_json_numbers_are_exact_never_float(client):
    # 0.1 + 0.2 style trap: 100000.10 元 × 40% (第二年) = 40000.04 exactly
    r = client.post('/v1/policies/zhangzhou/evaluate',
                    content=b'{"facts": {"\xe5\xb9\xb4\xe5\xba\xa6\xe7\xae\x97\xe5\x8a\x9b\xe6\x9c\x8d\xe5\x8a\xa1'
                            b'\xe8\xb4\xb9": 100000.10, "\xe4\xba\xab\xe5\x8f\x97\xe5\xb9\xb4\xe5\xba\xa6": 2},'
                            b' "date": "2025-06-01"}')
    assert r.status_code == 200
    assert r.json()['ceiling_total'] == '40000.04'


def test_explain_false_gives_the_same_amounts_without_steps(client):
    body = {'facts': _example('zhangzhou'), 'date': '2025-06-01'}
    full = client.post('/v1/policies/zhangzhou/evaluate', json=body).json()
    brief = client.post('/v1/policies/zhangzhou/evaluate', json={**body, 'explain': False}).json()
    assert full['total'] == brief['total'] and full['ceiling_total'] == brief['ceiling_total']
    assert any(i['steps'] for i in full['items'])
    assert not any(i['steps'] for i in brief['items'])


def test_date_outside_validity(client):
    r = client.post('/v1/policies/xiamen/evaluate', json={'facts': _example('xiamen'), 'date': '2028-01-01'}).json()
    assert r['valid'] is False and r['total'] == '0.00'
    assert all(i['outcome'] == 'not_applicable' for i in r['items'])


def test_batch_one_document_per_applicant_in_order(client):
    apps = [{'年度算力服务费': '22万元', '享受年度': y} for y in (1, 2, 3)] + [{'年度算力服务费': '5万元'}]
    r = client.post('/v1/policies/zhangzhou/evaluate-batch', json={'applicants': apps, 'date': '2025-06-01'})
    assert r.status_code == 200
    # 22万元 × 50% / 40% / 30%；5万元 不足10万元 → 0
    assert [d['ceiling_total'] for d in r.json()] == ['110000.00', '88000.00', '66000.00', '0.00']
    single = client.post('/v1/policies/zhangzhou/evaluate', json={'facts': apps[1], 'date': '2025-06-01'}).json()
    assert r.json()[1] == single


# ------------------------------------------------------------------ errors
def _err(r, status, field=None):
    assert r.status_code == status, r.text
    assert r.headers['content-type'] == 'application/json'
    doc = r.json()
    assert doc['status'] == status and 'Traceback' not in r.text
    assert any('\u4e00' <= ch <= '\u9fff' for ch in doc['message'])      # a Chinese message
    if field is not None:
        assert doc['field'] == field
    return doc


@pytest.mark.parametrize('body', [b'{"facts": ', b'', b'\xff\xfe{}', b'{"facts": {}, "facts": {}}',
                                  b'{"facts": {"a": NaN}}', b'[' * 100000])
def test_malformed_json_is_400(client, body):
    _err(client.post('/v1/policies/xiamen/evaluate', content=body), 400, 'body')


def test_unknown_policy_and_path_are_404(client):
    doc = _err(client.post('/v1/policies/nope/evaluate', json={'facts': {}}), 404, 'policy_id')
    assert 'xiamen' in doc['message']
    _err(client.get('/v1/policies/nope'), 404)
    _err(client.get('/v1/policies/nope/schema'), 404)
    _err(client.get('/policies/nope'), 404)
    _err(client.get('/no/such/path'), 404, 'path')
    _err(client.get('/v1/policies/xiamen/evaluate'), 405)


def test_body_over_the_limit_is_413(client):
    big = json.dumps({'facts': {'x': 'y' * (1024 * 1024)}}).encode()
    _err(client.post('/v1/policies/xiamen/evaluate', content=big), 413, 'body')

    def chunks():                      # no Content-Length: counted as it streams
        for _ in range(20):
            yield b' ' * 100_000
    _err(client.post('/v1/policies/xiamen/evaluate', content=chunks()), 413, 'body')


def test_limit_is_configurable():
    with TestClient(app([str(POLICIES / 'zhangzhou.pol')], max_body=100)) as c:
        _err(c.post('/v1/policies/zhangzhou/evaluate', json={'facts': {'年度算力服务费': '22万元' * 20}}), 413)
        assert c.post('/v1/policies/zhangzhou/evaluate', json={'facts': {}}).status_code == 200


def test_bad_facts_are_422_with_the_cli_message(client, tmp_path):
    facts = {'年度算力服务费': '十万', '享受年度': 2}
    (tmp_path / 'f.json').write_text(json.dumps(facts, ensure_ascii=False), encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(POLICIES / 'zhangzhou.pol'), '--facts', str(tmp_path / 'f.json')])
    assert r.exit_code == 2
    doc = _err(client.post('/v1/policies/zhangzhou/evaluate', json={'facts': facts}), 422, '年度算力服务费')
    assert doc['code'] == 'E-FACTS'
    assert f'「年度算力服务费」：{doc["problems"][0]["message"]}' in r.output
    assert '无法读作金额' in doc['message']


@pytest.mark.parametrize('body,field', [
    ({'facts': {'未知': 1}}, '未知'),
    ({'facts': {'年度算力服务费': -5}}, '年度算力服务费'),
    ({'facts': {'享受年度': 1.5}}, '享受年度'),
    ({'facts': ['a']}, 'facts'),
    ({}, 'facts'),
    ({'facts': {}, 'date': '2025-13-45'}, 'date'),
    ({'facts': {}, 'date': 20250601}, 'date'),
    ({'facts': {}, 'explain': 'yes'}, 'explain'),
    ({'facts': {}, 'extra': 1}, 'extra'),
    ([1, 2], 'body'),
])
def test_bad_requests_are_422_naming_the_field(client, body, field):
    _err(client.post('/v1/policies/zhangzhou/evaluate', json=body), 422, field)


def test_batch_errors_name_the_applicant(client):
    doc = _err(client.post('/v1/policies/zhangzhou/evaluate-batch',
                           json={'applicants': [{}, {'年度算力服务费': 'abc'}]}), 422, 'applicants[1].年度算力服务费')
    assert doc['message'].startswith('第 2 个申请人')
    _err(client.post('/v1/policies/zhangzhou/evaluate-batch', json={'applicants': [{}, 3]}), 422, 'applicants[1]')
    _err(client.post('/v1/policies/zhangzhou/evaluate-batch', json={'applicants': {}}), 422, 'applicants')


def test_an_internal_error_is_json_without_a_traceback(client, monkeypatch):
    entry = client.app.state.registry.get('zhangzhou')

    def boom(*a, **k):
        raise ZeroDivisionError('deliberate')
    monkeypatch.setitem(entry.compiled.namespace, 'evaluate', boom)
    r = client.post('/v1/policies/zhangzhou/evaluate', json={'facts': {}})
    doc = _err(r, 500)
    assert doc['code'] == 'E-INTERNAL' and 'deliberate' not in r.text


def test_openapi_document_uses_the_policy_schemas(client):
    jsonschema = pytest.importorskip('jsonschema')
    doc = client.get('/openapi.json').json()
    assert doc['openapi'].startswith('3.1')
    for pid in EXAMPLES:
        body = doc['paths'][f'/v1/policies/{pid}/evaluate']['post']['requestBody']['content']['application/json']
        ref = body['schema']['properties']['facts']['$ref'].rsplit('/', 1)[1]
        facts_schema = doc['components']['schemas'][ref]
        expected = client.get(f'/v1/policies/{pid}/schema').json()
        expected.pop('$schema')
        assert facts_schema == expected
        jsonschema.Draft202012Validator(facts_schema).validate(_example(pid))
        assert {'400', '404', '413', '422'} <= set(doc['paths'][f'/v1/policies/{pid}/evaluate']['post']['responses'])
    assert len({op['operationId'] for p in doc['paths'].values() for op in p.values()}) == \
        sum(len(p) for p in doc['paths'].values())


def test_access_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger='polc.serve.access'):
        client.get('/healthz')
        client.post('/v1/policies/nope/evaluate', json={})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == 'polc.serve.access']
    assert [(x['method'], x['path'], x['status']) for x in lines] == [
        ('GET', '/healthz', 200), ('POST', '/v1/policies/nope/evaluate', 404)]
    assert all(x['ms'] >= 0 and x['bytes'] > 0 for x in lines)


# ------------------------------------------------------------------ starting
def test_no_policies_or_duplicate_ids_refuse_to_start(tmp_path):
    with pytest.raises(ServeError, match='没有找到'):
        app([str(tmp_path)])
    with pytest.raises(ServeError, match='不存在'):
        app([str(tmp_path / 'missing')])
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    shutil.copy(POLICIES / 'zhangzhou.pol', tmp_path / 'a' / 'p.pol')
    shutil.copy(POLICIES / 'xiamen.pol', tmp_path / 'b' / 'p.pol')
    with pytest.raises(ServeError, match='编号相同'):
        app([str(tmp_path)])


def test_cli_refuses_a_broken_policy(tmp_path):
    (tmp_path / 'bad.pol').write_text('政策：坏\n条款 （一） 甲\n  项 乙\n    金额：不存在的输入 × 30%\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['serve', str(tmp_path / 'bad.pol')])
    assert r.exit_code == 1 and '政策有错误' in r.output
    r = CliRunner().invoke(cli, ['serve', str(tmp_path / 'missing')])
    assert r.exit_code == 2 and '不存在' in r.output


# ------------------------------------------------------------------ reload
def _wait(predicate, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_reload_swaps_in_an_edit_and_keeps_the_last_good_version(tmp_path):
    pytest.importorskip('watchfiles')
    src = (POLICIES / 'zhangzhou.pol').read_text(encoding='utf-8')
    pol = tmp_path / 'zz.pol'
    pol.write_text(src, encoding='utf-8')
    facts = {'facts': {'年度算力服务费': '22万元', '享受年度': 2}, 'date': '2025-06-01'}
    import threading
    answers, stop = [], threading.Event()

    def hammer(c):                       # requests keep being answered while versions change
        while not stop.is_set():
            r = c.post('/v1/policies/zz/evaluate', json=facts)
            answers.append((r.status_code, r.json().get('ceiling_total')))

    with TestClient(app([str(tmp_path)], reload=True)) as c:
        worker = threading.Thread(target=hammer, args=(c,), daemon=True)
        worker.start()
        v1 = c.get('/v1/policies/zz').json()['version']
        assert c.post('/v1/policies/zz/evaluate', json=facts).json()['ceiling_total'] == '88000.00'
        time.sleep(0.3)                               # the watcher is running
        # an edit: 第二年 40% → 45%
        edited = src.replace('第二年 40%', '第二年 45%')
        assert edited != src
        pol.write_text(edited, encoding='utf-8')
        assert _wait(lambda: c.get('/v1/policies/zz').json()['version'] != v1)
        assert c.post('/v1/policies/zz/evaluate', json=facts).json()['ceiling_total'] == '99000.00'
        v2 = c.get('/v1/policies/zz').json()['version']
        # an edit that fails polc check: the last good version keeps serving, the detail shows why
        pol.write_text(edited + '\n条款 （九十九） 坏\n  项 坏项\n    金额：没有这个输入 × 30%\n', encoding='utf-8')
        assert _wait(lambda: 'failed_edit' in c.get('/v1/policies/zz').json())
        d = c.get('/v1/policies/zz').json()
        assert d['version'] == v2 and d['failed_edit']['diagnostics']
        assert any(x['severity'] == 'error' for x in d['failed_edit']['diagnostics'])
        assert '没有这个输入' in d['failed_edit']['text']
        assert c.post('/v1/policies/zz/evaluate', json=facts).json()['ceiling_total'] == '99000.00'
        assert c.get('/v1/policies').json()[0]['last_edit_failed'] is True
        # fixed again
        pol.write_text(src, encoding='utf-8')
        assert _wait(lambda: c.get('/v1/policies/zz').json()['version'] == v1)
        assert 'failed_edit' not in c.get('/v1/policies/zz').json()
        assert c.post('/v1/policies/zz/evaluate', json=facts).json()['ceiling_total'] == '88000.00'
        stop.set()
        worker.join(timeout=30)
    # every answer during the edits came from a whole version: the old or the new amount, never an error
    assert answers and {a for a in answers} <= {(200, '88000.00'), (200, '99000.00')}
