"""Reading facts files (JSON or YAML) without ever producing a float."""
from __future__ import annotations

import json
import re
import sys
from decimal import Decimal



class FactsFileError(Exception):
    """A facts file that cannot be read or parsed; the message is Chinese and names the place."""


def _yaml_loader():
    """A YAML loader with the YAML 1.2 core schema's plain scalars, not PyYAML's YAML 1.1 ones:
    null and true/false; integers and decimals in decimal notation only (``0100`` is 100, not
    octal 64), decimals read exactly as Decimal; everything else — ``0x10``, ``0o17``, ``1:30``,
    ``1_000``, ``yes``/``on``, ``2025-03-01``, ``.inf`` — stays text, for polc's own grammar of
    facts (polc.dsl.money) to read or refuse.  A key given twice is an error naming it and its line."""
    import yaml

    class Yaml12Loader(yaml.SafeLoader):
        yaml_implicit_resolvers: dict = {}

        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                self.flatten_mapping(node)
                seen = {}
                for key_node, _value_node in node.value:
                    key = self.construct_object(key_node, deep=True)
                    try:
                        first = seen.get(key)
                    except TypeError:
                        continue                    # an unhashable key: PyYAML says so below
                    if first is not None:
                        raise FactsFileError(f'第 {key_node.start_mark.line + 1} 行：键「{key}」出现了两次'
                                             f'（第一次在第 {first} 行）')
                    seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep)

    Yaml12Loader.add_implicit_resolver(
        'tag:yaml.org,2002:null', re.compile(r'^(?:~|null|Null|NULL|)$'), ['~', 'n', 'N', ''])
    Yaml12Loader.add_implicit_resolver(
        'tag:yaml.org,2002:bool', re.compile(r'^(?:true|True|TRUE|false|False|FALSE)$'), list('tTfF'))
    Yaml12Loader.add_implicit_resolver(
        'tag:yaml.org,2002:int', re.compile(r'^[-+]?[0-9]+$'), list('-+0123456789'))
    Yaml12Loader.add_implicit_resolver(
        'tag:yaml.org,2002:float', re.compile(r'^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$'),
        list('-+.0123456789'))
    Yaml12Loader.add_constructor('tag:yaml.org,2002:int', _construct_int)
    Yaml12Loader.add_constructor('tag:yaml.org,2002:float', _construct_decimal)
    return yaml, Yaml12Loader


def _construct_int(loader, node):
    """A YAML 1.2 decimal integer (leading zeros are decimal, never octal)."""
    text = loader.construct_scalar(node)
    if node.tag == 'tag:yaml.org,2002:int' and re.fullmatch(r'[-+]?[0-9]+', text):
        return int(text)
    raise FactsFileError(f'第 {node.start_mark.line + 1} 行：无法读作整数：「{text}」')


def _construct_decimal(loader, node):
    """A YAML 1.2 decimal number, read exactly from its digits."""
    text = loader.construct_scalar(node)
    if not re.fullmatch(r'[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?', text):
        raise FactsFileError(f'第 {node.start_mark.line + 1} 行：无法读作数：「{text}」（不接受非数或无穷大）')
    return Decimal(text)


def _reject_constant(name):
    raise FactsFileError(f'JSON 中不接受 {name}（非数或无穷大）')


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise FactsFileError(f'键「{k}」出现了两次')
        out[k] = v
    return out


def parse_facts_text(text: str, name: str = '<事实>') -> object:
    """Parse JSON (or YAML when it is not JSON) into Python values; numbers become int/Decimal."""
    stripped = text.lstrip('\ufeff \t\r\n')
    if not stripped:
        raise FactsFileError(f'{name}：文件为空')
    if stripped[0] in '{[':
        try:
            return json.loads(stripped, parse_float=Decimal, parse_constant=_reject_constant,
                              object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise FactsFileError(f'{name}：第 {exc.lineno} 行第 {exc.colno} 列：JSON 格式错误（{exc.msg}）') from None
        except RecursionError:
            raise FactsFileError(f'{name}：嵌套过深') from None
        except FactsFileError as exc:
            raise FactsFileError(f'{name}：{exc}') from None
    yaml, loader = _yaml_loader()
    try:
        return yaml.load(stripped, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f'第 {mark.line + 1} 行第 {mark.column + 1} 列：' if mark else ''
        raise FactsFileError(f'{name}：{where}YAML 格式错误（{exc.problem}）') from None
    except yaml.YAMLError as exc:
        raise FactsFileError(f'{name}：YAML 格式错误（{exc}）') from None
    except RecursionError:
        raise FactsFileError(f'{name}：嵌套过深') from None
    except FactsFileError as exc:
        raise FactsFileError(f'{name}：{exc}') from None


def read_facts(path: str) -> object:
    """Read a facts file; ``-`` reads standard input.  At most 64 MiB (``POLC_MAX_INPUT_BYTES``),
    from a regular file only (a FIFO or a device is refused before reading)."""
    from polc.dsl.files import FileProblem, input_limit, read_bounded
    try:
        limit = input_limit()
        if path == '-':
            data = sys.stdin.buffer.read(limit + 1)
            name = '<标准输入>'
            if len(data) > limit:
                raise FactsFileError(f'{name}：输入过大（超过 {limit} 字节；可用环境变量 POLC_MAX_INPUT_BYTES 调整）')
        else:
            data = read_bounded(path, limit)
            name = path
    except FileProblem as exc:
        raise FactsFileError(str(exc)) from None
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        raise FactsFileError(f'{name}：不是 UTF-8 编码（第 {exc.start} 字节）') from None
    return parse_facts_text(text, name)
