"""The applicant page (政策计算器): HTML generated from a policy's inputs, answered by the server.

No script, no CDN, no build step: a plain form posted to ``/policies/{id}``; the answer is the
same page with the form kept filled in and the result above the explanations.  Labels on every
control, errors listed at the top with links to their fields (``aria-invalid``), ``lang="zh-CN"``.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from urllib.parse import parse_qsl

from polc.dsl.units import format_money

from polc.compiler.python.runtime import (AMOUNT, CASE_BY_CASE, CEILING, DEFERRED, NON_CASH,
                                          NOT_APPLICABLE, FactsError, parse_date, validity_bounds)
from polc.compiler.python.explain import _headline, departments

DATE_FIELD = '评估日期'
UNIT_SUFFIX = '（单位）'
_UNIT_CHARS = ('元', '万', '萬', '亿', '億')
_FEN = Decimal('0.01')

CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:0;
  color:#1b1b1b;background:#f6f7f9;line-height:1.6}
main{max-width:60rem;margin:0 auto;padding:1rem 1.25rem 3rem}
a{color:#0b57a4}
h1{font-size:1.5rem;margin:.5rem 0}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
.meta{color:#444;margin:.25rem 0 1rem}
form,.panel{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:1rem 1.25rem;margin:1rem 0}
.field{margin:.9rem 0}
.field label{font-weight:600;display:block}
.hint{color:#555;font-size:.9rem;display:block}
input[type=text],input[type=date],select{font:inherit;padding:.35rem .5rem;border:1px solid #8a94a6;
  border-radius:4px;min-width:14rem}
select.unit{min-width:0}
input[type=checkbox]{width:1.2rem;height:1.2rem;vertical-align:middle}
.check label{display:inline;font-weight:600}
[aria-invalid=true]{border-color:#b00020;outline:2px solid #b00020}
.err{color:#b00020}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
button{font:inherit;padding:.5rem 1.5rem;background:#0b57a4;color:#fff;border:0;border-radius:4px;cursor:pointer}
.total{font-size:1.3rem;font-weight:700}
.item{border-top:1px solid #e3e6eb;padding:.75rem 0}
.item h3{font-size:1.05rem;margin:.2rem 0}
blockquote{margin:.4rem 0;padding:.3rem .8rem;border-left:4px solid #c8ced8;background:#f3f5f8}
.outcome-amount,.outcome-ceiling{color:#0a6b2d;font-weight:600}
.outcome-not_applicable{color:#666}
table{border-collapse:collapse}td,th{padding:.25rem .75rem;text-align:left;border-bottom:1px solid #e3e6eb}
"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n'
            f'<a class="skip" href="#main">跳到正文</a>\n<main id="main">\n{body}\n</main>\n</body>\n</html>\n')


def _validity_line(meta) -> str:
    start, end = validity_bounds(meta)
    parts = [f'施行日期：{start.isoformat() if start else "未注明"}',
             f'有效期至：{end.isoformat() if end else "未注明"}']
    today = dt.date.today()
    valid = (start is None or start <= today) and (end is None or today <= end)
    parts.append('今天在有效期内' if valid else '今天不在有效期内')
    return '；'.join(parts)


def index_html(registry) -> str:
    rows = []
    for e in sorted(registry.entries.values(), key=lambda e: e.id):
        s = e.summary()
        rows.append(f'<tr><td><a href="/policies/{escape(e.id)}">{escape(s["name"])}</a></td>'
                    f'<td>{escape(s["issuer"] or "")}</td><td>{s["effective"] or "未注明"}</td>'
                    f'<td>{s["expiry"] or "未注明"}</td><td>{"是" if s["valid_today"] else "否"}</td></tr>')
    body = ('<h1>政策计算器</h1>\n<p class="meta">选择一项政策，填写企业情况，查看可获得的奖补与理由。</p>\n'
            '<table>\n<caption class="hint">可计算的政策</caption>\n<thead><tr><th scope="col">政策</th>'
            '<th scope="col">发文机关</th><th scope="col">施行日期</th><th scope="col">有效期至</th>'
            '<th scope="col">今天有效</th></tr></thead>\n<tbody>\n' + '\n'.join(rows) + '\n</tbody>\n</table>')
    return _page('政策计算器', body)


# ------------------------------------------------------------------ the form
def _field(i: int, name: str, spec, value, error, unit=None) -> str:
    kind, values, default, desc = spec
    fid = f'f{i}'
    hint_id = f'{fid}-hint'
    required = default is None
    hints = [desc] if desc else []
    invalid = ' aria-invalid="true"' if error else ''
    req = ' required aria-required="true"' if required and kind != 'bool' else ''
    if kind == 'bool':
        checked = ' checked' if value in ('on', 'true', '是') else ''
        hint = f'<span class="hint" id="{hint_id}">{escape(desc)}</span>' if desc else ''
        err = f'<span class="err" id="{fid}-err">{escape(error)}</span>' if error else ''
        described = ' '.join(x for x in (hint_id if desc else '', f'{fid}-err' if error else '') if x)
        return (f'<div class="field check"><input type="checkbox" id="{fid}" name="{escape(name)}" value="on"'
                f'{checked}{invalid}' + (f' aria-describedby="{described}"' if described else '') +
                f'> <label for="{fid}">{escape(name)}</label>{hint}{err}</div>')
    if default is not None:
        hints.append(f'不填按默认值：{_shown(kind, default)}')
    if kind == 'money':
        hints.append('可填 120、120万元 或 1.5亿元；只填数字时按右侧单位')
    elif kind == 'percent':
        hints.append('如 12.5（即 12.5%）')
    label = f'<label for="{fid}">{escape(name)}{"（必填）" if required else ""}</label>'
    hint = f'<span class="hint" id="{hint_id}">{escape("；".join(hints))}</span>' if hints else ''
    err = f'<span class="err" id="{fid}-err">{escape(error)}</span>' if error else ''
    described = ' '.join(x for x in (hint_id if hints else '', f'{fid}-err' if error else '') if x)
    aria = f' aria-describedby="{described}"' if described else ''
    v = escape(value or '')
    if kind == 'enum':
        first = '请选择' if required else f'（未填写：{escape(str(default))}）'
        opts = [f'<option value="">{first}</option>'] + [
            f'<option{" selected" if value == x else ""}>{escape(x)}</option>' for x in values]
        control = f'<select id="{fid}" name="{escape(name)}"{req}{invalid}{aria}>{"".join(opts)}</select>'
    elif kind == 'date':
        control = f'<input type="date" id="{fid}" name="{escape(name)}" value="{v}"{req}{invalid}{aria}>'
    else:
        mode = 'decimal' if kind in ('money', 'percent') else 'numeric'
        control = (f'<input type="text" inputmode="{mode}" id="{fid}" name="{escape(name)}" value="{v}"'
                   f'{req}{invalid}{aria} autocomplete="off">')
        if kind == 'money':
            sel = unit if unit in ('元', '万元') else '万元'
            control += (f' <select class="unit" id="{fid}-unit" name="{escape(name)}{UNIT_SUFFIX}" aria-label="{escape(name)}的单位">'
                        + ''.join(f'<option{" selected" if u == sel else ""}>{u}</option>' for u in ('元', '万元'))
                        + '</select>')
        elif kind == 'percent':
            control += ' %'
    return f'<div class="field">{label}{hint}{control}{err}</div>'


def _shown(kind, value) -> str:
    if kind == 'money':
        return format_money(value)
    if kind == 'percent':
        from polc.dsl.units import format_percent
        return format_percent(value)
    if kind == 'bool':
        return '是' if value else '否'
    return value.isoformat() if hasattr(value, 'isoformat') else str(value)


def policy_html(entry, form: dict | None = None, result=None, errors: dict | None = None,
                unfilled: list | None = None, top_error: str | None = None) -> str:
    c = entry.compiled
    meta = c.meta
    form = form or {}
    errors = errors or {}
    name = meta.get('name', entry.id)
    parts = [f'<p><a href="/">全部政策</a></p>', f'<h1>{escape(name)}</h1>']
    facts = [x for x in (meta.get('issuer'), meta.get('docno'), meta.get('status')) if x]
    parts.append(f'<p class="meta">{escape("；".join(str(x) for x in facts) + ("；" if facts else ""))}'
                 f'{escape(_validity_line(meta))}</p>')
    if top_error or errors:
        links = ''.join(f'<li><a href="#{escape(fid)}">{escape(msg)}</a></li>' for fid, msg in
                        _error_links(c.inputs, errors))
        parts.append(f'<div class="panel err" role="alert" id="errors"><h2>请修改以下内容</h2>'
                     f'{f"<p>{escape(top_error)}</p>" if top_error else ""}<ul>{links}</ul></div>')
    if result is not None:
        parts.append(result_html(result, unfilled or [], c.inputs))
    fields = [_field(i, n, spec, form.get(n), errors.get(n), form.get(n + UNIT_SUFFIX)) for i, (n, spec) in enumerate(c.inputs.items())]
    date_value = escape(form.get(DATE_FIELD, ''))
    date_err = errors.get(DATE_FIELD)
    fields.append(f'<div class="field"><label for="f-date">{DATE_FIELD}</label><span class="hint" id="f-date-hint">'
                  f'不填为今天；按此日期判断政策是否有效</span><input type="date" id="f-date" name="{DATE_FIELD}"'
                  f' value="{date_value}" aria-describedby="f-date-hint"'
                  + (' aria-invalid="true">' if date_err else '>')
                  + (f'<span class="err">{escape(date_err)}</span>' if date_err else '') + '</div>')
    parts.append(f'<form method="post" action="/policies/{escape(entry.id)}" aria-labelledby="form-title">'
                 f'<h2 id="form-title">填写企业情况</h2>' + '\n'.join(fields) +
                 '<p><button type="submit" id="submit">计算</button></p></form>')
    return _page(f'{name} · 政策计算器', '\n'.join(parts))


def _error_links(inputs, errors):
    ids = {n: f'f{i}' for i, n in enumerate(inputs)}
    ids[DATE_FIELD] = 'f-date'
    return [(ids.get(n, 'errors'), f'「{n}」：{m}' if n else m) for n, m in errors.items()]


# ------------------------------------------------------------------ the answer
def result_html(r, unfilled: list, inputs) -> str:
    out = ['<section class="panel" id="result" aria-labelledby="result-title">',
           '<h2 id="result-title">计算结果</h2>',
           f'<p>评估日期：{r.date.isoformat()}（{escape(r.validity)}）</p>']
    got = [it for it in r.items if it.outcome == AMOUNT and not it.set_aside and it.paid > 0]
    caps = [it for it in r.items if it.outcome == CEILING and not it.set_aside and it.ceiling]
    other = [it for it in r.items if it.outcome in (DEFERRED, CASE_BY_CASE, NON_CASH)]
    out.append(f'<p class="total">应得合计：<span id="total" data-value="{r.total.quantize(_FEN):f}">'
               f'{escape(format_money(r.total))}</span></p>')
    if r.ceilings:
        out.append(f'<p class="total">最高可获（以审核为准）：<span id="ceiling-total" data-value='
                   f'"{r.ceiling_total.quantize(_FEN):f}">{escape(format_money(r.ceiling_total))}</span></p>')
    lines = [f'<li>{escape(it.name)}【{escape(it.kind)}】：{escape(format_money(it.paid))}</li>' for it in got]
    lines += [f'<li>{escape(it.name)}【{escape(it.kind)}】：最高可获 {escape(format_money(it.ceiling))}</li>'
              for it in caps]
    lines += [f'<li>{escape(it.name)}【{escape(it.kind)}】：{escape(it.outcome_label)}'
              f'{"（" + escape(it.detail) + "）" if it.detail else ""}</li>' for it in other]
    if lines:
        out.append('<h3>可以享受</h3><ul id="qualifies">' + ''.join(lines) + '</ul>')
    else:
        out.append('<p id="qualifies">按所填情况，没有可以享受的项目。</p>')
    if r.totals:
        out.append('<p>按类别：' + escape('；'.join(f'{k} {format_money(v)}' for k, v in r.totals.items())) + '</p>')
    if unfilled:
        out.append('<h3>未填写的项</h3><p class="hint">以下各项未填写，按默认值计算；结果依赖这些默认值：</p><ul id="unfilled">'
                   + ''.join(f'<li>{escape(n)}（按 {escape(_shown(inputs[n][0], inputs[n][2]))}）</li>'
                             for n in unfilled) + '</ul>')
    out.append('<h3>各项说明</h3>')
    for it in r.items:
        out.append(_item_html(it))
    if r.groups:
        out.append('<h3>组合</h3><ul>' + ''.join(f'<li>{escape(g.name)}：{escape(g.note)}</li>'
                                               for g in r.groups) + '</ul>')
    out.append('</section>')
    return '\n'.join(out)


def _item_html(it) -> str:
    sep = ' ' if it.clause and it.clause[-1] not in '）)、' else ''
    out = [f'<div class="item"><h4>{escape(it.clause)}{sep}{escape(it.title)} · {escape(it.name)}'
           f'【{escape(it.kind)}】</h4>',
           f'<p>结果：<span class="outcome-{escape(it.outcome)}">{escape(_headline(it))}</span></p>']
    if it.detail and it.outcome != AMOUNT:
        out.append(f'<p>{"原因" if it.outcome == NOT_APPLICABLE else "说明"}：{escape(it.detail)}</p>')
    if it.steps:
        out.append('<p>计算：</p><ul>' + ''.join(f'<li>{escape(s)}</li>' for s in it.steps) + '</ul>')
    for n in it.notes:
        out.append(f'<p>调整：{escape(n)}</p>')
    for x in it.readings:
        out.append(f'<p>解读：{escape(x)}</p>')
    for s in it.source:
        out.append(f'<p>原文：</p><blockquote>{escape(s)}</blockquote>')
    if departments(it):
        out.append(f'<p>{escape(departments(it))}</p>')
    out.append('</div>')
    return '\n'.join(out)


# ------------------------------------------------------------------ a submitted form
def form_facts(inputs, form: dict):
    """(facts, unfilled) from the posted form: empty fields are left out (defaults apply)."""
    facts, unfilled = {}, []
    for name, (kind, _values, default, _desc) in inputs.items():
        raw = form.get(name, '').strip()
        if kind == 'bool':
            facts[name] = raw in ('on', 'true', '是')
            continue
        if not raw:
            if default is not None:
                unfilled.append(name)
            continue
        if kind == 'money' and not raw.endswith(_UNIT_CHARS):
            unit = form.get(name + UNIT_SUFFIX, '元')
            raw = raw + ('万元' if unit == '万元' else '元')
        elif kind == 'percent' and not raw.endswith(('%', '％')):
            raw += '%'
        facts[name] = raw
    return facts, unfilled


def submitted(entry, body: bytes):
    """(HTTP status, page) for a posted form."""
    try:
        form = dict(parse_qsl(body.decode('utf-8'), keep_blank_values=True, strict_parsing=False,
                              max_num_fields=1000))
    except (UnicodeDecodeError, ValueError) as exc:
        return 400, policy_html(entry, top_error=f'表单无法读取（{exc}）')
    inputs = entry.compiled.inputs
    facts, unfilled = form_facts(inputs, form)
    date = form.get(DATE_FIELD, '').strip() or None
    if date is not None and parse_date(date) is None:
        return 422, policy_html(entry, form, errors={DATE_FIELD: f'无法读作日期：{date}'})
    try:
        result = entry.compiled.evaluate(facts, date=date, explain=True)
    except FactsError as exc:
        return 422, policy_html(entry, form, errors={n: m for n, m in exc.problems})
    return 200, policy_html(entry, form, result=result, unfilled=unfilled)

