"""Load on `polc serve` next to a minimal hand-written Starlette endpoint, in one run:

    python bench/serve_load.py [--quick] [--requests N]

Both servers run under uvicorn on 127.0.0.1 (one worker each) and are loaded in turn by the same
generator (httpx, asyncio) at 1, 8 and 64 concurrent clients with the same applicants of
bench/clauses.pol: requests per second, p50 and p99 latency, errors (any status but 200, any
transport error, any total that differs from the hand-written one), and the server's resident
memory before and after.  polc answers the full `polc eval --format json` document
(``explain`` false, and true in another row); the hand-written endpoint only the amounts.

polc runs twice, as two servers: as users run it, with its structured access log (one JSON line
per request on stderr, here into bench/out/serve-access.log, as a service manager would collect
it), and with ``--no-access-log``, so the cost of the log line is measured in the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402

import evaluate as ev  # noqa: E402
import handwritten  # noqa: E402
import polc  # noqa: E402

LEVELS = (1, 8, 64)
WARM_UP = 300           # requests to each server before the measured rows


def _port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in open(f'/proc/{pid}/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
    return 0.0


def start(cmd, port, log=None) -> subprocess.Popen:
    """A server; its stderr into ``log`` (an open file), else a pipe read only if it fails to
    start (a server that logs every request must not write to a pipe nobody reads)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log or subprocess.PIPE)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f'server failed: {proc.stderr.read().decode() if proc.stderr else ""}')
            time.sleep(0.1)
    raise SystemExit('server did not start')


async def load(url: str, bodies: list, expected: list, n: int, clients: int, total_of) -> dict:
    latencies: list = []
    errors = 0
    counter = iter(range(n))

    async def worker():                  # one client and one kept-alive connection per worker
        nonlocal errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            for i in counter:
                k = i % len(bodies)
                t = time.perf_counter()
                try:
                    r = await client.post(url, content=bodies[k], headers={'content-type': 'application/json'})
                    ok = r.status_code == 200 and total_of(r.json()) == expected[k]
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t)
                errors += not ok
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - t0
    latencies.sort()
    return {'requests': n, 'clients': clients, 'rps': n / wall, 'errors': errors,
            'p50_ms': 1000 * statistics.median(latencies),
            'p99_ms': 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def bench(n: int) -> dict:
    pol = HERE / 'clauses.pol'
    compiled = polc.load(pol)
    typed = ev.typed_applicants(compiled, 1000, seed=7)
    facts = [ev.json_style(compiled, f) for f in typed]
    expected = [f'{handwritten.evaluate(f)[1]:.2f}' for f in typed]
    bodies = {explain: [json.dumps({'facts': f, 'date': ev.DATE, 'explain': explain}, ensure_ascii=False,
                                   default=str).encode() for f in facts] for explain in (False, True)}
    polc_bin = str(Path(sys.executable).with_name('polc'))
    p_port, q_port, h_port = _port(), _port(), _port()
    (HERE / 'out').mkdir(exist_ok=True)
    access_log = HERE / 'out' / 'serve-access.log'
    with open(access_log, 'wb') as log:
        servers = {
            'polc': start([polc_bin, 'serve', str(pol), '--port', str(p_port)], p_port, log),
            'polc-nolog': start([polc_bin, 'serve', str(pol), '--port', str(q_port), '--no-access-log'], q_port),
            'hand': start([sys.executable, '-m', 'uvicorn', '--app-dir', str(HERE), 'serve_hand:app', '--port',
                           str(h_port), '--log-level', 'warning', '--no-access-log'], h_port),
        }
        rows = []
        try:
            mem = {k: [_rss_mb(p.pid)] for k, p in servers.items()}
            polc_url = 'http://127.0.0.1:{}/v1/policies/clauses/evaluate'
            # warm-up, not measured: every server has read the policy and run each path once
            for url, body in ((f'http://127.0.0.1:{h_port}/evaluate', bodies[False]),
                              (polc_url.format(p_port), bodies[False]), (polc_url.format(p_port), bodies[True]),
                              (polc_url.format(q_port), bodies[False])):
                asyncio.run(load(url, body, expected, WARM_UP, 8, lambda d: d['total']))
            for clients in LEVELS:
                for name, server, url, body in (
                        ('hand', 'hand', f'http://127.0.0.1:{h_port}/evaluate', bodies[False]),
                        ('polc', 'polc', polc_url.format(p_port), bodies[False]),
                        ('polc-nolog', 'polc-nolog', polc_url.format(q_port), bodies[False]),
                        ('polc+explain', 'polc', polc_url.format(p_port), bodies[True])):
                    r = asyncio.run(load(url, body, expected, n, clients, lambda d: d['total']))
                    r['server'] = name
                    rows.append(r)
                    mem[server].append(_rss_mb(servers[server].pid))
                    print(f'{name:13} clients={clients:3} rps={r["rps"]:8.0f} p50={r["p50_ms"]:.2f}ms '
                          f'p99={r["p99_ms"]:.2f}ms errors={r["errors"]}', file=sys.stderr)
        finally:
            for p in servers.values():
                p.terminate()
                p.wait(timeout=15)
    logged = sum(1 for line in open(access_log, 'rb') if line.startswith(b'{'))   # (not the start-up line)
    return {'rows': rows, 'memory_mb': mem, 'requests_per_row': n, 'access_log_lines': logged}


def table(res: dict) -> str:
    rows = res['rows']
    hand = {r['clients']: r['rps'] for r in rows if r['server'] == 'hand'}
    lines = ['### 服务：polc serve 与手写 Starlette 端点（同一次运行，本机回环，httpx 异步负载）', '',
             '| 服务 | 并发客户端 | 每秒请求 | 相对手写 | p50 毫秒 | p99 毫秒 | 错误 |', '|---|---|---|---|---|---|---|']
    names = {'hand': '手写端点（bench/serve_hand.py）', 'polc': 'polc serve，访问日志（explain=false）',
             'polc-nolog': 'polc serve，`--no-access-log`（explain=false）',
             'polc+explain': 'polc serve，访问日志（explain=true）'}
    for r in rows:
        lines.append(f'| {names[r["server"]]} | {r["clients"]} | {r["rps"]:,.0f} | {r["rps"] / hand[r["clients"]]:.2f} | '
                     f'{r["p50_ms"]:.2f} | {r["p99_ms"]:.2f} | {r["errors"]} |')
    polc_total = sum(r['requests'] for r in rows if r['server'].startswith('polc'))
    polc_errors = sum(r['errors'] for r in rows if r['server'].startswith('polc'))
    logged_rows = sum(r['requests'] for r in rows if r['server'] in ('polc', 'polc+explain')) + 2 * WARM_UP
    mem = res['memory_mb']
    by = {(r['server'], r['clients']): r['rps'] for r in rows}
    cost = '，'.join(f'{c} 个客户端 {by[("polc", c)] / by[("polc-nolog", c)]:.2f}' for c in LEVELS)
    lines += ['', f'访问日志的代价（有日志的吞吐 ÷ 无日志的吞吐）：{cost}。',
              f'polc serve 共 {polc_total:,} 个请求，错误 {polc_errors} 个；访问日志 {res["access_log_lines"]:,} 行'
              f'（应为 {logged_rows:,}）。常驻内存（MB，启动时与每组负载之后）：'
              f'polc {" → ".join(f"{m:.0f}" for m in mem["polc"])}；'
              f'polc 无日志 {" → ".join(f"{m:.0f}" for m in mem["polc-nolog"])}；'
              f'手写 {" → ".join(f"{m:.0f}" for m in mem["hand"])}。']
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--requests', type=int, default=None, help='requests per row (default 17,000: '
                    '102,000 to polc over its six rows)')
    args = ap.parse_args()
    n = args.requests or (300 if args.quick else 17_000)
    res = bench(n)
    text = table(res)
    out = HERE / 'out'
    out.mkdir(exist_ok=True)
    (out / 'serve.md').write_text(text, encoding='utf-8')
    (out / 'serve.json').write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding='utf-8')
    print(text)


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
