"""Every operation of the server's OpenAPI document has a method in the Python SDK, or is listed in
absent_routes.json with the reason it has none.

Which routes the SDK calls is read from its source, not declared: every call of the HTTP layer
(``Client.request``/``_call``/``_multipart``/``_upload``/``_download`` and ``post_bytes``) is
found with :mod:`ast`, and its method and path are evaluated — module constants such as ``API``
by value, the SDK's own path helpers (``_path(…)``, ``self._run_path(…)``) and request wrappers
(``self._call(…)``) inlined with their arguments, anything else (an id) as a path parameter. So a
new route without a method fails here, and so does a call this reading cannot place.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import forja
import httpx

SDK = Path(forja.__file__).parent
ABSENT = json.loads((Path(__file__).parent / "absent_routes.json").read_text())
METHODS = {"get", "put", "post", "delete", "patch"}
# How deep path helpers and request wrappers are inlined (ForjaModel.predict → _call → Client._call).
DEPTH = 4
# The HTTP layer's entry points: name → (index of the method argument or the fixed method, index of the path).
PRIMITIVES = {"request": (0, 1), "_call": (0, 1), "_multipart": ("POST", 0), "_upload": ("PUT", 0), "_download": ("GET", 0), "post_bytes": ("POST", 0)}
UNKNOWN = "{}"

Env = Dict[str, Optional[str]]


class Module:
    def __init__(self, path: Path) -> None:
        self.values = vars(importlib.import_module(f"forja.{path.stem}"))
        self.tree = ast.parse(path.read_text(), str(path))
        self.functions: Dict[str, ast.FunctionDef] = {}
        self.methods: Dict[Tuple[str, str], ast.FunctionDef] = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        self.methods[(node.name, item.name)] = item

    def callee(self, func: ast.expr, cls: Optional[str]) -> Optional[Tuple[ast.FunctionDef, Optional[str]]]:
        """The SDK function a call runs, when this module defines it: a module function, or a method of the caller's class."""
        if isinstance(func, ast.Name) and func.id in self.functions:
            return self.functions[func.id], None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self" and (cls, func.attr) in self.methods:
            return self.methods[(cls, func.attr)], cls
        return None


def _is_client(receiver: ast.expr, cls: Optional[str]) -> bool:
    """Whether the call goes to the HTTP layer: a Client (``client``, ``self.client``, ``self._client``, or ``self`` in Client) or its core."""
    if isinstance(receiver, ast.Name):
        return receiver.id == "client" or (receiver.id == "self" and cls == "Client")
    return isinstance(receiver, ast.Attribute) and receiver.attr in ("client", "_client", "_core")


def _locals(fn: ast.FunctionDef) -> Dict[str, ast.expr]:
    return {t.id: node.value for node in ast.walk(fn) if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}


def _bind(fn: ast.FunctionDef, call: ast.Call, module: Module, env: Env, cls: Optional[str], depth: int = 0) -> Env:
    """The callee's parameters, evaluated in the caller: positional, keyword, else the default."""
    params = [a.arg for a in fn.args.args]
    if params and params[0] == "self":
        params = params[1:]
    defaults = dict(zip(reversed(params), reversed(fn.args.defaults)))
    bound: Env = {p: None for p in params}
    for name, default in defaults.items():
        bound[name] = _value(default, module, {}, cls, depth)
    for name, arg in zip(params, call.args):
        bound[name] = _value(arg, module, env, cls, depth)
    for kw in call.keywords:
        if kw.arg in bound:
            bound[kw.arg] = _value(kw.value, module, env, cls, depth)
    return bound


def _or_unknown(value: Optional[str]) -> str:
    return UNKNOWN if value is None else value


def _value(node: ast.expr, module: Module, env: Env, cls: Optional[str], depth: int) -> Optional[str]:
    """A string the expression is known to have; a path parameter's place reads UNKNOWN, None when nothing is known."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else _or_unknown(_value(v.value, module, env, cls, depth)) for v in node.values)  # type: ignore[attr-defined]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _value(node.left, module, env, cls, depth), _value(node.right, module, env, cls, depth)
        return None if left is None and right is None else _or_unknown(left) + _or_unknown(right)
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        value = module.values.get(node.id)
        return value if isinstance(value, str) else None
    if isinstance(node, ast.Call) and depth < DEPTH:
        target = module.callee(node.func, cls)
        returns = [n.value for n in ast.walk(target[0]) if isinstance(n, ast.Return) and n.value is not None] if target else []
        if target and len(returns) == 1:
            fn, fn_cls = target
            inner = {**{k: None for k in _locals(fn)}, **_bind(fn, node, module, env, cls, depth + 1)}
            return _value(returns[0], module, inner, fn_cls, depth + 1)
    return None


def _requests(fn: ast.FunctionDef, module: Module, env: Env, cls: Optional[str], depth: int = 0) -> Iterator[Tuple[Optional[str], Optional[str], int]]:
    """(method, path, line) of every HTTP call the function makes, through the SDK's request wrappers."""
    scope: Env = dict(env)
    for name, expr in _locals(fn).items():
        if name not in scope:
            scope[name] = None
            scope[name] = _value(expr, module, scope, cls, 0)
    for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in PRIMITIVES and _is_client(func.value, cls):
            method_at, path_at = PRIMITIVES[func.attr]
            if isinstance(method_at, int):
                method = _value(call.args[method_at], module, scope, cls, 0) if len(call.args) > method_at else None
            else:
                method = next((_value(k.value, module, scope, cls, 0) for k in call.keywords if k.arg == "method"), method_at)
            path = _value(call.args[path_at], module, scope, cls, 0) if len(call.args) > path_at else None
            yield method, path, call.lineno
        elif depth < DEPTH:
            target = module.callee(func, cls)
            if target and _is_wrapper(module, *target):
                callee, callee_cls = target
                yield from _requests(callee, module, _bind(callee, call, module, scope, cls), callee_cls, depth + 1)


def _is_wrapper(module: Module, fn: ast.FunctionDef, cls: Optional[str]) -> bool:
    """A function whose HTTP call is not known from its own body (its method or path is a parameter): read at each call instead."""
    params: Env = {a.arg: None for a in fn.args.args}
    return any(method is None or path is None for method, path, _ in _requests(fn, module, params, cls, DEPTH))


def sdk_requests() -> Set[Tuple[str, str, str]]:
    """(method, path, where) of each HTTP call in the SDK (a wrapper's own call, whose method or path is a parameter, is read at its callers)."""
    found: Set[Tuple[str, str, str]] = set()
    for path in sorted(SDK.glob("*.py")):
        if path.stem in ("__init__", "_http"):
            continue
        module = Module(path)
        owners = [(fn, None) for fn in module.functions.values()] + [(fn, cls) for (cls, _), fn in module.methods.items()]
        for fn, cls in owners:
            params: Env = {a.arg: None for a in fn.args.args}
            for method, route, line in _requests(fn, module, params, cls):
                if method is not None and route is not None:
                    found.add((method.upper(), route, f"{path.name}:{line}"))
    return found


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", UNKNOWN, path)


def documented(server) -> List[str]:
    doc = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    return [f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item if m in METHODS]


def test_every_documented_route_has_a_python_sdk_method_or_a_reason(server):
    ops = documented(server)
    assert len(ops) > 100, f"only {len(ops)} operations documented"
    by_template = {}
    for label in ops:
        method, path = label.split(" ", 1)
        by_template[(method, _template(path))] = label
    requests = sdk_requests()
    covered = {by_template.get((method, route)) for method, route, _ in requests} - {None}
    missing = [label for label in ops if label not in covered and label not in ABSENT]
    assert missing == [], "add a method to python/forja (or list the route in absent_routes.json with why it has none)"
    unplaced = sorted(f"{where}: {method} {route}" for method, route, where in requests if (method, route) not in by_template)
    assert unplaced == [], "SDK calls that match no documented route (a route that moved, or a path this test cannot read)"
    stale = [label for label in ABSENT if label not in ops or label in covered]
    assert stale == [], "absent_routes.json lists routes that are gone or that the SDK now calls"
    assert all(len(reason.strip()) > 10 for reason in ABSENT.values()), "each absent route needs its reason"
    print(f"{len(ops)} operations: {len(covered)} have a Python SDK method, {len(ABSENT)} are listed absent")
