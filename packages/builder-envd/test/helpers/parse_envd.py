"""Reads a build.envd on stdin and prints, as JSON, what envd would be asked to do with it.

build.envd is Starlark, whose syntax is a subset of Python's, so Python's own parser reads it: the file must be
one `def build():` whose body is only calls with literal arguments. Each call is reported with its arguments
(evaluated with ast.literal_eval), and every call anywhere in the tree is listed, so that a test can tell an
injected call from a string that merely contains one.

For the calls whose strings envd splits with BuildKit's llb.Shlex (github.com/google/shlex; envd
pkg/lang/ir/v1/system.go compileRun, python.go compilePyPIPackages, conda.go compileCondaPackages), it also
reports the argv envd would run, split the same way with Python's shlex (POSIX mode: the same quoting rules
for single quotes, backslashes and whitespace).
"""
import ast
import json
import shlex
import sys


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def envd_argv(name, kwargs):
    if name == "run":
        script = "set -euo pipefail\n" + "".join(c + "\n" for c in kwargs["commands"])
        return shlex.split("/usr/bin/bash -c '%s'" % script)
    if name == "install.python_packages" and "name" in kwargs:
        return shlex.split("python -m pip install " + " ".join(kwargs["name"]))
    if name == "install.conda_packages":
        channels = "".join(" -c " + c for c in kwargs.get("channel", []))
        packages = "".join(" " + p for p in kwargs["name"])
        return shlex.split("/opt/conda/bin/micromamba install -n envd" + channels + packages)
    return None


def main():
    source = sys.stdin.read()
    problems = []
    calls = []
    tree = ast.parse(source, mode="exec")
    body = tree.body
    if len(body) != 1 or not isinstance(body[0], ast.FunctionDef) or body[0].name != "build":
        problems.append("the file is not exactly one `def build():`")
    for fn in body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        a = fn.args
        if a.args or a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or fn.decorator_list:
            problems.append("build() takes arguments or has decorators")
        for stmt in fn.body:
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
                problems.append(f"line {stmt.lineno}: not a call statement")
                continue
            call = stmt.value
            name = dotted(call.func)
            try:
                args = [ast.literal_eval(arg) for arg in call.args]
                kwargs = {}
                for keyword in call.keywords:
                    if keyword.arg is None:
                        raise ValueError("**kwargs")
                    kwargs[keyword.arg] = ast.literal_eval(keyword.value)
            except ValueError as error:
                problems.append(f"line {stmt.lineno}: {name}() has an argument that is not a literal ({error})")
                continue
            try:
                argv = envd_argv(name, kwargs)
            except (ValueError, KeyError) as error:
                problems.append(f"line {stmt.lineno}: envd could not split {name}(): {error!r}")
                argv = None
            # Dicts as ordered pairs: JSON objects read into JavaScript reorder integer-like keys.
            pairs = {k: list(v.items()) for k, v in kwargs.items() if isinstance(v, dict)}
            calls.append(
                {"name": name, "line": stmt.lineno, "args": args, "kwargs": kwargs, "argv": argv, "pairs": pairs}
            )
    every_call = [dotted(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)]
    json.dump({"calls": calls, "everyCall": every_call, "problems": problems}, sys.stdout)


main()
