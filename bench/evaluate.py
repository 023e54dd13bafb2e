"""The per-applicant path, on two independent clause sets, in one run:

    python bench/evaluate.py [--quick]

For bench/clauses.pol (reference bench/handwritten.py) and bench/clauses2.pol (reference
bench/handwritten2.py), on the same deterministic applicants, alternating runs, medians:
- hand: the hand-written Decimal function given ready (typed) facts;
- typed: ``CompiledPolicy.evaluate_typed`` (typed facts, same per-item rounding);
- public: ``polc.load(...).evaluate(facts, date, explain=False)`` with JSON-style facts (money
  as strings, checking included, result objects built);
- public+explain: the same with ``explain=True``;
- document / document+explain: ``evaluate(...).to_dict()``, the whole `polc eval --format json`
  document (what `polc serve` answers), without and with explanations.
The public ``evaluate`` returns a light result (outcomes, amounts, total) and builds the full
result (explanations, 原文, groups) when it is first read, so "public+explain" times the call
alone and "document+explain" what reading the explanations costs.
Targets (issue 15): public ≥ 0.5× hand, typed ≥ 1.0× hand, explain ≤ 2× the cost without.
Every result is checked equal to the hand-written one before timing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import handwritten  # noqa: E402
import handwritten2  # noqa: E402

import polc  # noqa: E402

DATE = '2025-06-01'
DAY = dt.date(2025, 6, 1)


def typed_applicants(compiled, n: int, seed: int) -> list[dict]:
    """Typed facts for every input, spread so that every outcome occurs."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        f = {}
        for name, (kind, values, _default, _desc) in compiled.inputs.items():
            if kind == 'money':
                f[name] = Decimal(rnd.randrange(0, 10 ** rnd.randint(4, 12))) / 100
            elif kind == 'percent':
                f[name] = Decimal(rnd.randrange(-2000, 5000)) / 10000
            elif kind == 'int':
                f[name] = rnd.randint(1, 4)
            elif kind == 'bool':
                f[name] = rnd.random() < 0.6
            elif kind == 'enum':
                f[name] = values[0] if rnd.random() < 0.8 else rnd.choice(values)
            else:
                raise SystemExit(f'no generator for {kind}')
        out.append(f)
    return out


def json_style(compiled, typed: dict) -> dict:
    """The facts as a portal sends them: money as decimal strings, percentages as "12.5%"."""
    out = {}
    for name, v in typed.items():
        kind = compiled.inputs[name][0]
        if kind == 'money':
            out[name] = f'{v:f}'
        elif kind == 'percent':
            out[name] = f'{(v * 100).normalize():f}%'
        else:
            out[name] = v
    return out


def view(result) -> tuple:
    out = {}
    for it in result.items:
        if it.outcome == 'amount':
            out[it.name] = ('amount', it.paid)
        elif it.outcome == 'ceiling':
            out[it.name] = ('ceiling', it.ceiling)
        else:
            out[it.name] = (it.outcome, None)
    return out, result.total


def bench_set(pol: Path, hand, n: int, rounds: int) -> dict:
    compiled = polc.load(pol)
    typed_facts = typed_applicants(compiled, n, seed=len(pol.name))
    json_facts = [json_style(compiled, f) for f in typed_facts]
    evaluate = compiled.evaluate
    typed = compiled.evaluate_typed
    for tf, jf in zip(typed_facts, json_facts):
        h = hand.evaluate(tf)
        if view(evaluate(jf, DATE, explain=False)) != h or view(evaluate(jf, DATE, explain=True)) != h \
                or typed(tf, DAY) != h:
            raise SystemExit(f'MISMATCH on {pol.name} for {jf}')
    outcomes = {o for tf in typed_facts for o, _v in hand.evaluate(tf)[0].values()}

    def run_hand():
        for f in typed_facts:
            hand.evaluate(f)

    def run_typed():
        for f in typed_facts:
            typed(f, DAY)

    def run_public():
        for f in json_facts:
            evaluate(f, DATE, explain=False)

    def run_explain():
        for f in json_facts:
            evaluate(f, DATE, explain=True)

    def run_document():
        for f in json_facts:
            evaluate(f, DATE, explain=False).to_dict()

    def run_document_explain():
        for f in json_facts:
            evaluate(f, DATE, explain=True).to_dict()

    runs = {'hand': run_hand, 'typed': run_typed, 'public': run_public, 'explain': run_explain,
            'document': run_document, 'document_explain': run_document_explain}
    times = {k: [] for k in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            gc.collect()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {'policy': pol.name, 'applicants': n, 'rounds': rounds, 'outcomes': sorted(outcomes),
            'per_second': {k: n / v for k, v in med.items()},
            'typed_vs_hand': med['hand'] / med['typed'], 'public_vs_hand': med['hand'] / med['public'],
            'explain_cost': med['explain'] / med['public'],
            'document_explain_cost': med['document_explain'] / med['document'],
            'document_explain_vs_public': med['document_explain'] / med['public']}


def bench(n: int, rounds: int) -> list:
    return [bench_set(HERE / 'clauses.pol', handwritten, n, rounds),
            bench_set(HERE / 'clauses2.pol', handwritten2, n, rounds)]


def table(results) -> str:
    lines = ['### 逐个申请人：公开的 evaluate 与类型化路径（两组条款，同一次运行）', '',
             '| 条款 | 手写（每秒） | `evaluate_typed` | 相对手写 | `evaluate(explain=False)`，JSON 式事实 | 相对手写 '
             '| `evaluate(explain=True)` | 说明的代价（倍） |', '|---|---|---|---|---|---|---|---|']
    for r in results:
        p = r['per_second']
        lines.append(f'| {r["policy"]} | {p["hand"]:,.0f} | {p["typed"]:,.0f} | {r["typed_vs_hand"]:.2f} | '
                     f'{p["public"]:,.0f} | {r["public_vs_hand"]:.2f} | {p["explain"]:,.0f} | '
                     f'{r["explain_cost"]:.2f} |')
    lines += ['', '读出整份结果（`evaluate(...).to_dict()`，即 `polc eval --format json` 与 `polc serve` 的文档）：', '',
              '| 条款 | 文档，explain=False（每秒） | 文档，explain=True（每秒） | 说明的代价（文档对文档） '
              '| 带说明的文档 ÷ 不读说明的 evaluate |', '|---|---|---|---|---|']
    for r in results:
        p = r['per_second']
        lines.append(f'| {r["policy"]} | {p["document"]:,.0f} | {p["document_explain"]:,.0f} | '
                     f'{r["document_explain_cost"]:.2f} | {r["document_explain_vs_public"]:.1f} |')
    lines += ['', f'目标：类型化 ≥ 1.0×，公开 evaluate ≥ 0.5×，说明 ≤ 2×。{results[0]["applicants"]:,} 个申请人，'
              f'{results[0]["rounds"]} 轮交替取中位数；每个结果先与手写版本逐项核对相同。'
              '公开的 evaluate 返回轻量结果，说明与整份文档在第一次读取时才算出，所以「说明的代价」一列只量调用本身，'
              '读出说明的代价见第二张表。']
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    args = ap.parse_args()
    n, rounds = (3000, 3) if args.quick else (20_000, 5)
    res = bench(n, rounds)
    text = table(res)
    out = HERE / 'out'
    out.mkdir(exist_ok=True)
    (out / 'evaluate.md').write_text(text, encoding='utf-8')
    (out / 'evaluate.json').write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding='utf-8')
    print(text)


if __name__ == '__main__':
    main()
