"""A small FEEL subset for form conditions (`hide`, `requiredWhen`, `readonly`); stdlib only.

Supported: `=name`, `=not(expr)`, `=name = "text"`, `=name != "text"`, comparisons with `true`, `false`,
`null` or a number, `and` / `or` and parentheses. A bare name is true when its value is truthy, so `=not(key)`
holds for a missing, empty or false field. Dotted names (`address.city`) read nested objects.
Anything else raises `FeelError` when the expression is compiled, so a form never runs a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

Condition = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)|(?P<op>!=|=|\(|\))'
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*))"
)
_LITERALS: dict[str, object] = {"true": True, "false": False, "null": None}
_KEYWORDS = {"and", "or", "not"}


class FeelError(ValueError):
    """The expression is outside the supported FEEL subset."""


@lru_cache(maxsize=512)
def compile_condition(expression: str) -> Condition:
    """Compile `=...` into a predicate over a data mapping; raise FeelError if it is not supported."""
    if not expression.startswith("="):
        raise FeelError(f"expression {expression!r} must start with '='")
    parser = _Parser(_tokenize(expression[1:]), expression)
    condition = parser.parse_or()
    extra = parser.peek()
    if extra is not None:
        raise FeelError(f"unexpected {extra[1]!r} in {expression!r}")
    return condition


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FeelError(f"unsupported FEEL at {text[position:].strip()!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], source: str) -> None:
        self.tokens = tokens
        self.source = source
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (text is not None and token[1] != text):
            raise FeelError(f"expected {text or 'more'} in {self.source!r}")
        self.position += 1
        return token

    def parse_or(self) -> Condition:
        parts = [self.parse_and()]
        while self.peek() == ("name", "or"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else lambda data: any(p(data) for p in parts)

    def parse_and(self) -> Condition:
        parts = [self.parse_unary()]
        while self.peek() == ("name", "and"):
            self.take()
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else lambda data: all(p(data) for p in parts)

    def parse_unary(self) -> Condition:
        token = self.peek()
        if token == ("name", "not"):
            self.take()
            self.take("(")
            inner = self.parse_or()
            self.take(")")
            return lambda data: not inner(data)
        if token == ("op", "("):
            self.take()
            inner = self.parse_or()
            self.take(")")
            return inner
        return self.parse_comparison()

    def parse_comparison(self) -> Condition:
        left = self.parse_operand()
        token = self.peek()
        if token not in (("op", "="), ("op", "!=")):
            return lambda data: bool(left(data))
        self.take()
        right = self.parse_operand()
        if token == ("op", "="):
            return lambda data: is_equal(left(data), right(data))
        return lambda data: not is_equal(left(data), right(data))

    def parse_operand(self) -> Callable[[Mapping[str, Any]], object]:
        kind, text = self.take()
        if kind == "string":
            value: object = re.sub(r"\\(.)", r"\1", text[1:-1])
        elif kind == "number":
            value = float(text) if "." in text else int(text)
        elif kind == "name" and text in _LITERALS:
            value = _LITERALS[text]
        elif kind == "name" and text not in _KEYWORDS:
            return lambda data: _lookup(data, text)
        else:
            raise FeelError(f"unexpected {text!r} in {self.source!r}")
        return lambda data: value


def _lookup(data: Mapping[str, Any], name: str) -> object:
    value: object = data
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def is_equal(left: object, right: object) -> bool:
    """Compare as FEEL does: no coercion between booleans, numbers and strings."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and left == right


def any_of(first: str | None, second: str | None) -> str | None:
    """Combine two optional conditions into one that holds when either holds."""
    if first and second:
        return f"=({first[1:]}) or ({second[1:]})"
    return first or second
