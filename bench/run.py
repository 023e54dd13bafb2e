"""polc benchmarks: one command, one table.

    python bench/run.py [--quick]

1. per-applicant evaluation: compiled polc vs hand-written Python vs the reference interpreter,
   on the same deterministic applicants, alternating runs, medians and ratios;
2. start-up: `polc check policies/*.pol` and `polc eval` cold, against `python -c pass`;
   import time of each polc module (python -X importtime);
3. scale: parse + check + compile of generated policies of 10 … 5,000 clauses, time and peak memory;
4. batch (bench/batch.py): 1,000,000 applicants Parquet → Parquet on DuckDB, polc vs a hand-written
   query, each seed policy, and the per-row streaming path from CSV;
5. the public evaluate and the typed path on two clause sets (bench/evaluate.py);
6. polc serve under load next to a hand-written Starlette endpoint (bench/serve_load.py; needs the
   serve extra; --no-serve leaves it out).
7. bureau tables (bench/tables.py): applicants of two seed policies with money written as text
   (units, separators, full-width forms, empty cells) and the same as typed Parquet, plus Excel and
   `polc report`: rows/s of the table engine (DuckDB) and the per-row engine, and their ratio.
Writes bench/out/results.md (and prints it).
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import handwritten  # noqa: E402

import polc  # noqa: E402
from polc.compiler.analysis.interpreter import Interpreter  # noqa: E402


def applicants(n: int, seed: int = 20241122) -> list[dict]:
    rnd = random.Random(seed)

    def money(hi):
        return Decimal(rnd.randrange(0, hi * 100)) / 100

    out = []
    for _ in range(n):
        out.append({
            '首版次软件国内领先': rnd.random() < 0.5, '首年度销售收入': money(20_000_000),
            '年度营业收入': money(3_000_000_000), '算力服务费用': money(50_000_000),
            '年度算力服务费': money(500_000), '享受年度': rnd.randint(1, 4),
            '营业收入': money(200_000_000), '营收增速': Decimal(rnd.randrange(-2000, 5000)) / 10000,
            '行业平均增速': Decimal(rnd.randrange(0, 2000)) / 10000, '已获晋级奖励': money(1_500_000),
            '当年落户': rnd.random() < 0.3, '攻关算力成本': money(3_000_000),
            '本地算力使用费用': money(3_000_000),
        })
    return out


def _view_polc(raw):
    out = {}
    for it in raw['items']:
        if it['outcome'] == 'amount':
            out[it['name']] = ('amount', it['paid'])
        elif it['outcome'] == 'ceiling':
            out[it['name']] = ('ceiling', it['ceiling'])
        else:
            out[it['name']] = (it['outcome'], None)
    return out, raw['total']


def bench_evaluation(n: int, rounds: int) -> dict:
    compiled = polc.load(HERE / 'clauses.pol')
    interp = Interpreter(compiled.analysis.checked, compiled.analysis.source)
    apps = applicants(n)
    date = '2025-06-01'
    evaluate = compiled.namespace['evaluate']
    typed = compiled.evaluate_typed
    day = dt.date(2025, 6, 1)
    # exactly equal results first
    for f in apps[: min(n, 20000)]:
        a = _view_polc(evaluate(f, date, False))
        b = handwritten.evaluate(f)
        c = typed(f, day)
        if not (a == b == c):
            raise SystemExit(f'MISMATCH for {f}:\npolc {a}\nhand {b}\ntyped {c}')
    for f in apps[:2000]:
        if _view_polc(compiled.evaluate_raw(f, date, False)) != _view_polc(
                interp_raw(interp, f, date)):
            raise SystemExit(f'interpreter MISMATCH for {f}')

    def run_polc():
        for f in apps:
            typed(f, day)

    def run_checked():
        for f in apps:
            evaluate(f, date, False)

    def run_hand():
        for f in apps:
            handwritten.evaluate(f)

    interp_apps = apps[: max(1, n // 20)]

    def run_interp():
        for f in interp_apps:
            interp_raw(interp, f, date)

    times = {'polc': [], 'checked': [], 'hand': [], 'interp': []}
    for _ in range(rounds):                      # alternate, so drift hits all alike
        for name, fn in (('polc', run_polc), ('hand', run_hand), ('checked', run_checked),
                         ('interp', run_interp)):
            gc.collect()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    thr = {'polc': n / med['polc'], 'hand': n / med['hand'], 'checked': n / med['checked'],
           'interp': len(interp_apps) / med['interp']}
    return {'applicants': n, 'rounds': rounds, 'throughput': thr,
            'ratio_polc_vs_hand': thr['polc'] / thr['hand'],
            'ratio_checked_vs_hand': thr['checked'] / thr['hand'],
            'ratio_interp_vs_hand': thr['interp'] / thr['hand']}


def interp_raw(interp, facts, date):
    from polc.compiler.python import runtime as R
    return R.evaluate_policy(interp.meta(), interp.input_table(), interp.item_table(),
                             interp.group_table(), facts, date, False)


def _wall(cmd, runs: int, env=None) -> float:
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def bench_startup(runs: int) -> dict:
    polc_bin = str(Path(sys.executable).with_name('polc'))
    pols = sorted(str(p.relative_to(ROOT)) for p in (ROOT / 'policies').glob('*.pol'))
    env_nocache = dict(os.environ, POLC_NO_CACHE='1')
    subprocess.run([polc_bin, 'check', *pols], stdout=subprocess.DEVNULL, cwd=ROOT)   # fill the cache
    res = {
        'python -c pass': _wall([sys.executable, '-c', 'pass'], runs),
        'polc check policies/*.pol': _wall([polc_bin, 'check', *pols], runs),
        'polc check policies/*.pol (no cache)': _wall([polc_bin, 'check', *pols], runs, env_nocache),
        'polc eval (one applicant)': _wall([polc_bin, 'eval', 'policies/xiamen.pol', '--facts',
                                           'policies/examples/xiamen.json', '--date', '2025-06-01'], runs),
    }
    imp = subprocess.run([sys.executable, '-X', 'importtime', '-c', 'import polc.compiler.cli'],
                         capture_output=True, text=True, cwd=ROOT).stderr
    modules = {}
    for line in imp.splitlines():
        parts = line.split('|')
        if len(parts) == 3 and 'polc' in parts[2]:
            modules[parts[2].strip()] = int(parts[1].strip()) / 1e6
    res['imports'] = modules
    return res


def generated_policy(n: int) -> str:
    lines = ['政策：规模测试', '施行日期：2024-01-01', '有效期至：2030-12-31']
    for i in range(n):
        lines.append(f'输入 费用{_cn(i)}：金额 默认 0元')
    for i in range(n):
        lines += [f'条款 {i + 1}. 条款{_cn(i)}', f'  项 项{_cn(i)}', '    类别：补助',
                  f'    条件：费用{_cn(i)} 达到 10万元',
                  f'    金额：分档（当 费用{_cn(i)} 在 100万元（含） 以上：费用{_cn(i)} × 20% 最高 100万元；'
                  f'否则：费用{_cn(i)} × 30%）']
    return '\n'.join(lines) + '\n'


def _cn(i: int) -> str:
    digits = '零一二三四五六七八九'
    return ''.join(digits[int(c)] for c in str(i))


def bench_scale(sizes) -> list:
    out = []
    for n in sizes:
        text = generated_policy(n)
        # VmHWM is this process's own peak RSS (ru_maxrss also counts the parent's, kept across exec)
        code = ('import sys, time\n'
                'from polc.compiler.python.loader import loads\n'
                'from polc.dsl.parser import _lark\n'
                'def hwm():\n'
                '    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))\n'
                '_lark()\n'
                'text = sys.stdin.read()\n'
                'base = hwm()\n'
                't = time.perf_counter()\n'
                'loads(text, "gen.pol")\n'
                'dt = time.perf_counter() - t\n'
                'peak = hwm() - base\n'
                'print(dt, peak * 1024)\n')
        r = subprocess.run([sys.executable, '-c', code], input=text, capture_output=True, text=True,
                           env=dict(os.environ, POLC_NO_CACHE='1'))
        if r.returncode != 0:
            raise SystemExit(r.stderr)
        secs, peak = r.stdout.split()
        out.append({'clauses': n, 'seconds': float(secs), 'peak_mb': max(int(peak), 0) / 2 ** 20})
    return out


def table(ev, st, sc) -> str:
    lines = ['## 结果', '', f'机器：{platform.platform()}，Python {platform.python_version()}，'
             f'{os.cpu_count()} 核', '']
    lines += ['### 逐个申请人计算（同一批确定的申请人，交替运行取中位数）', '',
              '| 实现 | 每秒申请人 | 相对手写 |', '|---|---|---|']
    t = ev['throughput']
    lines.append(f'| 手写 Python（bench/handwritten.py） | {t["hand"]:,.0f} | 1.00 |')
    lines.append(f'| polc 编译：`evaluate_typed`（已是类型化的事实） | {t["polc"]:,.0f} | '
                 f'{ev["ratio_polc_vs_hand"]:.2f} |')
    lines.append(f'| polc 编译：`evaluate(explain=False)`（含事实检查、有效期、结果字典） | '
                 f'{t["checked"]:,.0f} | {ev["ratio_checked_vs_hand"]:.2f} |')
    lines.append(f'| 参考解释器 | {t["interp"]:,.0f} | {ev["ratio_interp_vs_hand"]:.2f} |')
    lines += ['', f'{ev["applicants"]:,} 个申请人，{ev["rounds"]} 轮；polc 与手写版本的结果逐项完全相同（已核对）。', '']
    lines += ['### 启动（冷启动进程，中位数）', '', '| 命令 | 秒 |', '|---|---|']
    for k, v in st.items():
        if k != 'imports':
            lines.append(f'| `{k}` | {v:.3f} |')
    lines += ['', '模块导入时间（累计，秒）：', '']
    for k, v in sorted(st['imports'].items(), key=lambda kv: -kv[1])[:8]:
        lines.append(f'- `{k}`：{v:.3f}')
    lines += ['', '### 规模（生成的政策：分析 + 检查 + 编译）', '', '| 条款 | 秒 | 每条款毫秒 | 峰值内存增量 MB（RSS） |',
              '|---|---|---|---|']
    for r in sc:
        lines.append(f'| {r["clauses"]:,} | {r["seconds"]:.2f} | {1000 * r["seconds"] / r["clauses"]:.2f} | '
                     f'{r["peak_mb"]:.1f} |')
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true', help='small sizes, for a smoke test')
    ap.add_argument('--no-serve', action='store_true', help='leave out the service load benchmark')
    args = ap.parse_args()
    n, rounds, runs = (5000, 3, 3) if args.quick else (100_000, 5, 9)
    sizes = [10, 100] if args.quick else [10, 100, 1000, 5000]
    ev = bench_evaluation(n, rounds)
    st = bench_startup(runs)
    sc = bench_scale(sizes)
    import batch
    bt = batch.bench_batch(*((50_000, 5_000, 1) if args.quick else (1_000_000, 200_000, 3)))
    import evaluate as public_evaluate
    pe = public_evaluate.bench(*((3000, 3) if args.quick else (20_000, 5)))
    import tables
    tt = tables.bench_tables(*((20_000, 5_000, 1) if args.quick else (100_000, 20_000, 3)))
    text = (table(ev, st, sc) + '\n' + batch.table(bt) + '\n' + public_evaluate.table(pe) + '\n'
            + tables.table(tt))
    sl = None
    if not args.no_serve:
        import serve_load
        sl = serve_load.bench(300 if args.quick else 17_000)
        text += '\n' + serve_load.table(sl)
    out = HERE / 'out'
    out.mkdir(exist_ok=True)
    (out / 'results.md').write_text(text, encoding='utf-8')
    (out / 'results.json').write_text(json.dumps({'evaluation': ev, 'startup': st, 'scale': sc, 'batch': bt,
                                                  'public_evaluate': pe, 'serve': sl, 'tables': tt},
                                                 ensure_ascii=False, indent=2), encoding='utf-8')
    print(text)


if __name__ == '__main__':
    main()
