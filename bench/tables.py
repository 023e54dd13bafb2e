"""Bureau tables benchmark (issue 16), run by bench/run.py or alone:

    python bench/tables.py [--rows N] [--excel-rows N] [--runs R]

The tables a 财政局 receives: 厦门 applicants with money written as text the ways people write it
("199581萬元", "1,234,567.89", full-width digits, plain 元).  One run measures, each job in a fresh
process, alternating, medians:
1. `polc eval --out` on the text CSV: the DuckDB engine against the per-row engine (ratio);
2. the same table as an Excel workbook (.xlsx), per-row and DuckDB;
3. `polc report` on the text CSV with each engine (ratio).
Both engines' results are checked identical on the CSV table.
"""
from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICY = ROOT / 'policies' / 'xiamen.pol'
FW = str.maketrans('0123456789,.', '０１２３４５６７８９，．')


def spell(v: Decimal, k: int) -> str:
    """An amount in 元 written one of five ways, chosen by ``k`` (deterministic)."""
    choice = k % 5
    if choice == 0 and v % 100 == 0:
        return f'{(v / 10000).normalize():f}萬元'
    if choice == 1:
        return f'{v:,}'
    if choice == 2:
        return f'{v:,}'.translate(FW) + '元'
    if choice == 3:
        return f'{v}元'
    return f'{v}'


def make_text_tables(n: int, csv_path: Path, xlsx_path: Path = None, xlsx_rows: int = 0) -> None:
    """``n`` generated 厦门 applicants (bench/batch.py's generator) with money spelled as text."""
    import duckdb
    import polc
    sys.path.insert(0, str(HERE))
    import batch
    compiled = polc.load(POLICY)
    money = {name for name, (kind, *_r) in compiled.inputs.items() if kind == 'money'}
    con = duckdb.connect()
    cur = con.execute(batch._gen_sql(compiled.inputs, n))
    cols = [d[0] for d in cur.description]
    rows = []
    for i, r in enumerate(cur.fetchall()):
        out = []
        for j, (c, v) in enumerate(zip(cols, r)):
            if v is None:
                out.append('')
            elif c in money:
                out.append(spell(Decimal(v), i + j))
            elif isinstance(v, bool):
                out.append('是' if v else '否')
            else:
                out.append(str(v))
        rows.append(out)
    with open(csv_path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows(rows)
    if xlsx_path is not None:
        import xlsxwriter
        wb = xlsxwriter.Workbook(str(xlsx_path), {'constant_memory': True})
        ws = wb.add_worksheet('申请')
        ws.write_row(0, 0, cols)
        for i, r in enumerate(rows[:xlsx_rows], start=1):
            for j, v in enumerate(r):
                if v != '':
                    ws.write_string(i, j, v)
        wb.close()


_JOB = r'''
import json, sys, time
kind, src, out = {args!r}
policy = {policy!r}
t = time.perf_counter()
import polc
compiled = polc.load(policy)
if kind in ('python', 'duckdb'):
    from polc.compiler.engines import evaluate_table
    s = evaluate_table(compiled, src, out, '2025-06-01', engine=kind)
    rows = s.written
else:
    from click.testing import CliRunner
    from polc.compiler.cli import cli
    engine = kind.split('-')[1]
    r = CliRunner().invoke(cli, ['report', policy, '--facts', src, '--out', out, '--date', '2025-06-01',
                                 '--engine', engine])
    assert r.exit_code == 0, r.output
    rows = 0
secs = time.perf_counter() - t
hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))
print(json.dumps({{'seconds': secs, 'rows': rows, 'rss_mb': hwm / 1024}}))
'''


def _job(kind, src, out) -> dict:
    code = _JOB.format(args=(kind, str(src), str(out)), policy=str(POLICY))
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    lines = [line for line in r.stdout.splitlines() if line.startswith('{"seconds"')]
    if not lines:
        raise RuntimeError(f'{kind}: no result in its output: {r.stdout[-2000:]}')
    return json.loads(lines[-1])


def _pair(a, b, src, outs, runs):
    ta, tb = [], []
    for _ in range(runs):                               # alternating
        ta.append(_job(a, src, outs[0]))
        tb.append(_job(b, src, outs[1]))
    sa = statistics.median(r['seconds'] for r in ta)
    sb = statistics.median(r['seconds'] for r in tb)
    return {a: sa, b: sb, 'ratio': sb / sa, 'rss_mb': {a: max(r['rss_mb'] for r in ta),
                                                      b: max(r['rss_mb'] for r in tb)}}


def bench_tables(n: int, excel_rows: int, runs: int) -> dict:
    out = {'rows': n, 'excel_rows': excel_rows, 'runs': runs}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src, book = tmp / 'xiamen.csv', tmp / 'xiamen.xlsx'
        make_text_tables(n, src, book, excel_rows)
        out['eval_csv'] = _pair('python', 'duckdb', src, (tmp / 'row.csv', tmp / 'sql.csv'), runs)
        out['identical'] = (tmp / 'row.csv').read_bytes() == (tmp / 'sql.csv').read_bytes()
        out['eval_xlsx'] = _pair('python', 'duckdb', book, (tmp / 'row-x.csv', tmp / 'sql-x.csv'), runs)
        out['report'] = _pair('report-python', 'report-duckdb', src, (tmp / 'a.html', tmp / 'b.html'), runs)
    return out


def table(b: dict) -> str:
    e, x, r = b['eval_csv'], b['eval_xlsx'], b['report']
    return '\n'.join([
        '### 局里的表格：金额写成文字（厦门，单位、千分位、全角数字）', '',
        f'{b["rows"]:,} 个生成的厦门申请人，金额写成「199581萬元」「1,234,567.89」「１，２３４．５元」等；'
        f'Excel 为其前 {b["excel_rows"]:,} 行（文字单元格）。每次运行是一个新进程，交替运行 {b["runs"]} 次取中位数。', '',
        '| 任务 | 逐行引擎（python）秒 | DuckDB 引擎 秒 | DuckDB ÷ 逐行 |', '|---|---|---|---|',
        f'| `polc eval --out`，CSV | {e["python"]:.2f} | {e["duckdb"]:.2f} | {e["ratio"]:.2f} |',
        f'| `polc eval --out`，Excel（.xlsx） | {x["python"]:.2f} | {x["duckdb"]:.2f} | {x["ratio"]:.2f} |',
        f'| `polc report`，CSV | {r["report-python"]:.2f} | {r["report-duckdb"]:.2f} | {r["ratio"]:.2f} |', '',
        f'两个引擎在 CSV 表上的结果文件{"逐字节相同（已核对）" if b["identical"] else "**不同**"}。'
        '比值大于 1 表示 DuckDB 引擎更慢；默认引擎取更快的一个（见 compiler/engines.py 的 DEFAULT_ENGINE）。', ''])


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', type=int, default=200_000)
    ap.add_argument('--excel-rows', type=int, default=50_000)
    ap.add_argument('--runs', type=int, default=3)
    a = ap.parse_args()
    res = bench_tables(a.rows, a.excel_rows, a.runs)
    print(table(res))
    print(json.dumps(res, ensure_ascii=False, indent=1))
