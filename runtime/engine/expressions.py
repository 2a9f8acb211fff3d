"""Flowyard expressions: a locked-down Python expression subset.

Syntax is checked once at deploy (``compile_expression``) against an AST whitelist, so
attribute access, comprehensions, lambdas and unknown functions are refused with a message
before anything runs; evaluation then goes through simpleeval, which bounds the cost of
powers and of building long strings or lists.
"""
from __future__ import annotations

import ast
import datetime as _dt
import threading
from dataclasses import dataclass, field
from typing import Any

import isodate
import simpleeval

MAX_SOURCE_LENGTH = 4000
MAX_NODES = 400


class ExpressionError(ValueError):
    """A user's expression is invalid or failed to evaluate; the message says why."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def _today() -> str:
    return _dt.date.today().isoformat()


def _date_add(value: str, duration: str) -> str:
    """``date_add("2024-01-01", "P2D")`` -> ``"2024-01-03"``; keeps date vs datetime."""
    delta = isodate.parse_duration(duration)
    if "T" in value:
        return (_dt.datetime.fromisoformat(value) + delta).isoformat()
    return (_dt.date.fromisoformat(value) + delta).isoformat()


FUNCTIONS: dict[str, Any] = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "int": int,
    "float": float, "str": str, "bool": bool, "sum": sum, "any": any, "all": all,
    "sorted": sorted, "now": _now, "today": _today, "date_add": _date_add,
}

_ALLOWED_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.BoolOp,
    ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Call, ast.List, ast.Tuple,
    ast.Dict, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE,
    ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.keyword,
)

_DESCRIBE = {
    ast.Attribute: "attribute access", ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.Lambda: "lambda", ast.NamedExpr: "':='",
    ast.Starred: "'*' unpacking", ast.JoinedStr: "f-strings", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Set: "set literals",
}


@dataclass(frozen=True)
class Expression:
    source: str
    tree: ast.Expression = field(repr=False, compare=False)
    names: frozenset[str] = field(default=frozenset(), compare=False)

    def evaluate(self, variables: dict[str, Any]) -> Any:
        evaluator = _evaluator()
        evaluator.names = variables
        evaluator.expr = self.source
        try:
            return evaluator._eval(self.tree.body)
        except simpleeval.NameNotDefined as exc:
            raise ExpressionError(f"unknown variable '{exc.name}' in {self.source!r}") from None
        except simpleeval.InvalidExpression as exc:
            raise ExpressionError(f"{exc} in {self.source!r}") from None
        except (KeyError, IndexError) as exc:
            raise ExpressionError(f"no item {exc} in {self.source!r}") from None
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, ArithmeticError) as exc:
            raise ExpressionError(f"{exc} in {self.source!r}") from None


_LOCAL = threading.local()


def _evaluator() -> simpleeval.EvalWithCompoundTypes:
    """One evaluator per thread, reused: building one costs more than most evaluations
    (the engine evaluates per node), and evaluation never re-enters itself."""
    evaluator = getattr(_LOCAL, "evaluator", None)
    if evaluator is None:
        evaluator = _LOCAL.evaluator = simpleeval.EvalWithCompoundTypes(functions=dict(FUNCTIONS))
    return evaluator


def compile_expression(source: str) -> Expression:
    """Parse and check ``source``; raise ExpressionError naming the problem."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("empty expression")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_SOURCE_LENGTH} characters")
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error in {text!r}: {exc.msg}") from None
    names: set[str] = set()
    count = 0
    for node in ast.walk(tree):
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"expression too complex (over {MAX_NODES} parts)")
        if not isinstance(node, _ALLOWED_NODES):
            what = _DESCRIBE.get(type(node), type(node).__name__)
            raise ExpressionError(f"{what} is not allowed in expressions: {text!r}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                allowed = ", ".join(sorted(FUNCTIONS))
                raise ExpressionError(f"unknown function '{name}' (allowed: {allowed})")
        elif isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ExpressionError(f"names starting with '_' are not allowed: {node.id!r}")
            names.add(node.id)
    func_names = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return Expression(text, tree, frozenset(names - func_names))


_CACHE: dict[str, Expression] = {}


def cached_expression(source: str) -> Expression:
    """compile_expression with a process-wide cache (compiled graphs reuse the same texts)."""
    expr = _CACHE.get(source)
    if expr is None:
        expr = compile_expression(source)
        if len(_CACHE) < 10000:
            _CACHE[source] = expr
    return expr


def evaluate(source: str, variables: dict[str, Any]) -> Any:
    return cached_expression(source).evaluate(variables)


def is_expression_value(value: str | None) -> bool:
    return isinstance(value, str) and value.startswith("=")


def evaluate_value(value: Any, variables: dict[str, Any]) -> Any:
    """A flowyard VALUE: a literal, or an expression when it starts with '='."""
    if is_expression_value(value):
        return evaluate(value[1:], variables)
    return value


def check_value(value: str | None) -> None:
    """Raise ExpressionError if VALUE is an '=expression' that does not compile."""
    if is_expression_value(value):
        compile_expression(value[1:])
