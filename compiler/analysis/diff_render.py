"""``polc diff``: the whole comparison of two versions (structure, amounts, applicants) and its
text and JSON forms; witnesses written as facts files."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Optional

import attrs

from polc.dsl.units import format_money

from polc.compiler.analysis.diff_semantic import FAR_FUTURE, FAR_PAST, Semantic, semantic_diff
from polc.compiler.analysis.diff_structure import Structure, Version, structural_diff


@attrs.define
class DiffReport:
    old_file: str
    new_file: str
    structure: Structure
    semantic: Semantic
    applicants: Optional[object] = None     # diff_facts.OneApplicant | TableImpact
    witness_files: list = attrs.Factory(list)
    out_dir: str = ''

    @property
    def uncovered(self) -> list:
        """Semantic structural changes the amount comparison does not cover (inputs: a changed default
        or a new required input changes the result of a facts file that leaves it out)."""
        return [c for c in self.structure.semantic if c.where.startswith('输入「')]

    @property
    def differs(self) -> bool:
        if self.semantic.differs or self.uncovered:
            return True
        return self.applicants is not None and self.applicants.differs

    def to_dict(self) -> dict:
        return {'old': self.old_file, 'new': self.new_file, 'differs': self.differs,
                'structure': [c.to_dict() for c in self.structure.changes],
                'semantic': self.semantic.to_dict(),
                'other_differences': [c.to_dict() for c in self.uncovered],
                'applicants': self.applicants.to_dict() if self.applicants is not None else None,
                'witness_files': self.witness_files}


def diff(old, new, old_file: str, new_file: str, examples: int = 300, use_solver: bool = True) -> DiffReport:
    """Compare two compiled policies (:class:`CompiledPolicy`)."""
    vo = Version(old.policy, old.analysis.source, old_file)
    vn = Version(new.policy, new.analysis.source, new_file)
    structure = structural_diff(vo, vn)
    semantic = semantic_diff(old, new, vo, vn, structure.item_pairs, examples=examples, use_solver=use_solver)
    return DiffReport(old_file, new_file, structure, semantic)


# ------------------------------------------------------------------ witnesses
def write_witnesses(report: DiffReport, out_dir: str) -> list:
    """One facts file per witness (``polc eval`` accepts it on both versions) and 见证.json listing
    each with its item, evaluation date and old and new outcome.  Each file is written whole."""
    outp = Path(out_dir)
    outp.mkdir(parents=True, exist_ok=True)
    report.out_dir = str(outp)
    index, n = [], 0
    for d in report.semantic.items:
        for r in d.regions:
            n += 1
            name = f'见证{n:02d}.json'
            _write(outp / name, r.witness)
            index.append({'file': name, 'item': d.item, 'old_name': d.old_name,
                          'date': report.semantic.date.isoformat(), 'method': d.method,
                          'region': r.conditions, 'old': r.old, 'new': r.new,
                          'old_amount': None if r.old_amount is None else f'{r.old_amount:f}',
                          'new_amount': None if r.new_amount is None else f'{r.new_amount:f}'})
    _write(outp / '见证.json', {'old': report.old_file, 'new': report.new_file, 'witnesses': index})
    report.witness_files = [str(outp / w['file']) for w in index]
    if getattr(report.applicants, 'applicants', None) is not None:
        from polc.compiler.analysis.diff_facts import write_applicants
        write_applicants(report.applicants, str(outp / '申请人.csv'))
    return report.witness_files


def _write(path: Path, data) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix='.' + path.name, suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(json.dumps(data, ensure_ascii=False, indent=2) + '\n')
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------------ text
_MARK = {'added': '+', 'removed': '-', 'renamed': '→', 'changed': '~', 'moved': '→'}
_KIND = {'added': '新增', 'removed': '删除', 'renamed': '改名', 'changed': '修改', 'moved': '移动'}


def _source_lines(c) -> list:
    if not c.old_source and not c.new_source:
        return []
    if tuple(c.old_source) == tuple(c.new_source):
        return [f'      原文（未变）：{"".join(c.old_source)}']
    return [f'      旧原文：{"".join(c.old_source) or "（无）"}',
            f'      新原文：{"".join(c.new_source) or "（无）"}']


def render_structure(s: Structure) -> list:
    if not s.changes:
        return ['结构：没有变化（注释、排版不计）']
    sem = len(s.semantic)
    lines = [f'结构变化 {len(s.changes)} 处（其中 {sem} 处可能改变金额或结果；'
             f'{len(s.changes) - sem} 处只涉及原文、解读、标题或措辞）']
    for c in s.changes:
        tag = '' if c.semantic else '  〔不影响金额〕'
        lines.append(f'  {_MARK[c.kind]} {c.where} {c.aspect}：{_KIND[c.kind]}{tag}')
        if c.aspect not in ('原文', '解读'):
            if c.old:
                lines.append(f'      旧：{c.old}')
            if c.new:
                lines.append(f'      新：{c.new}')
            if c.parts and len(c.parts) <= 4:
                lines.append(f'      改动：{"；".join(c.parts)}')
            lines += _source_lines(c)
        else:
            lines.append(f'      旧{c.aspect}：{c.old or "（无）"}')
            lines.append(f'      新{c.aspect}：{c.new or "（无）"}')
    return lines


def _how(d) -> str:
    if d.method == 'solver':
        return '求解器证明' + ('，已列出全部区域' if d.complete and d.status == 'differs' else '')
    if d.method == 'search':
        return f'搜索 {d.examples} 例'
    return '规则未变'


def render_semantic(sem: Semantic) -> list:
    lines = [f'金额与结果（各项按评估日期 {sem.date.isoformat()} 比较）']
    if sem.validity is not None:
        v = sem.validity
        lines.append(f'  有效期：{v.old} → {v.new}')
        for d, e, a, b in v.dates:
            if d == FAR_PAST:
                when = f'{e.isoformat()} 及以前'
            elif e == FAR_FUTURE:
                when = f'{d.isoformat()} 及以后'
            else:
                when = d.isoformat() if d == e else f'{d.isoformat()} 至 {e.isoformat()}'
            lines.append(f'    {when}：旧版{"有效" if a else "无效"}，新版{"有效" if b else "无效"}')
    differ = [d for d in sem.items if d.status == 'differs']
    unknown = [d for d in sem.items if d.status == 'same' and d.method == 'search']
    for d in differ:
        title = (d.item if d.kind == 'group' else f'「{d.item}」' if not d.old_name or d.old_name == d.item
                 else f'「{d.old_name}」→「{d.item}」')
        lines.append(f'  {title}：有申请人的结果不同（{_how(d)}）')
        for k, r in enumerate(d.regions, 1):
            where = ' 且 '.join(r.conditions) if r.conditions else '（未描述区域）'
            lines.append(f'    区域 {k}：{where}')
            if r.old_branch or r.new_branch:
                lines.append(f'      旧版：{r.old_branch or "—"}')
                lines.append(f'      新版：{r.new_branch or "—"}')
            amounts = f'{r.old} → {r.new}'
            lines.append(f'      {"金额" if r.constant else "例"}：{amounts}，见证 '
                         f'{json.dumps(r.witness, ensure_ascii=False)}')
            if r.sampled:
                note = '' if r.sampled_differ == r.sampled else '（区域描述是近似，并非处处不同）'
                lines.append(f'      区域内抽样 {r.sampled} 例，{r.sampled_differ} 例不同{note}')
        if d.note:
            lines.append(f'    说明：{d.note}')
    for d in unknown:
        lines.append(f'  {d.item if d.kind == "group" else "「" + d.item + "」"}：{d.note}')
    same = [d for d in sem.items if d.status == 'same' and d.method != 'search']
    rules = sum(1 for d in same if d.method == 'rules')
    lines.append(f'  其余 {len(same)} 项对任何申请人结果相同（规则未变 {rules} 项，求解器证明 {len(same) - rules} 项）')
    return lines


def render(report: DiffReport) -> str:
    lines = [f'旧版：{report.old_file}', f'新版：{report.new_file}', '']
    lines += render_structure(report.structure)
    lines.append('')
    lines += render_semantic(report.semantic)
    for c in report.uncovered:
        lines.append(f'  {c.where} {c.aspect}：{c.old or "（无）"} → {c.new or "（无）"}（按有差异计）')
    if report.applicants is not None:
        lines.append('')
        lines += report.applicants.render()
    if report.witness_files:
        lines.append('')
        lines.append(f'见证写入 {len(report.witness_files)} 个事实文件（目录 {Path(report.witness_files[0]).parent}，'
                     f'索引 见证.json）')
    if report.out_dir and getattr(report.applicants, 'applicants', None) is not None:
        lines.append(f'每个申请人在两版下的结果写入 {Path(report.out_dir) / "申请人.csv"}')
    lines.append('')
    lines.append('结论：' + ('有金额或结果上的差异' if report.differs else '没有金额或结果上的差异'))
    return '\n'.join(lines) + '\n'


def money(v) -> str:
    return format_money(v) if v is not None else '—'
