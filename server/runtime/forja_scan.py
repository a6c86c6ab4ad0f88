"""Static checks of a deployment's files before it is built, as Neomaril's deploy checks did.

Source files: calls that reach the shell, evaluate code or delete trees are reported as warnings
(a scorer may need some). Pickles: opcodes that import a callable able to run commands or code
are errors, since unpickling runs them. Prints one JSON object.
"""
import ast
import json
import pickletools
import sys
import zipfile

RISKY_CALLS = {
    "eval", "exec", "compile", "__import__", "os.system", "os.popen", "os.execv", "os.execve", "os.spawnl",
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen",
    "shutil.rmtree", "socket.socket", "pty.spawn",
}
DANGEROUS_GLOBALS = {
    ("os", "system"), ("posix", "system"), ("nt", "system"), ("os", "popen"), ("posix", "popen"),
    ("subprocess", "Popen"), ("subprocess", "run"), ("subprocess", "call"), ("subprocess", "check_output"),
    ("builtins", "eval"), ("builtins", "exec"), ("builtins", "compile"), ("builtins", "__import__"),
    ("__builtin__", "eval"), ("__builtin__", "exec"), ("socket", "socket"), ("pty", "spawn"), ("shutil", "rmtree"),
}


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def scan_source(path):
    findings = []
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        return [{"level": "error", "file": path, "line": exc.lineno, "message": f"SyntaxError: {exc.msg}"}]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in RISKY_CALLS:
                line = text.splitlines()[node.lineno - 1] if node.lineno else ""
                if "nosec" not in line:
                    findings.append({"level": "warning", "file": path, "line": node.lineno, "message": f"calls {name}()"})
    return findings


def pickle_streams(path):
    if zipfile.is_zipfile(path):  # torch and some joblib files are zips of pickles
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith(".pkl") or name.endswith("data.pkl"):
                    yield name, z.read(name)
    else:
        with open(path, "rb") as f:
            yield path, f.read()


def scan_pickle(path):
    findings = []
    for name, data in pickle_streams(path):
        strings = []
        try:
            for opcode, arg, _pos in pickletools.genops(data):
                if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "STRING", "SHORT_BINSTRING", "BINSTRING"):
                    strings.append(arg)
                    strings = strings[-2:]
                elif opcode.name == "GLOBAL":
                    module, _, attr = str(arg).partition(" ")
                    if (module, attr) in DANGEROUS_GLOBALS:
                        findings.append({"level": "error", "file": name, "line": None, "message": f"the pickle imports {module}.{attr}, which unpickling would run"})
                elif opcode.name == "STACK_GLOBAL" and len(strings) == 2:
                    if (strings[0], strings[1]) in DANGEROUS_GLOBALS:
                        findings.append({"level": "error", "file": name, "line": None, "message": f"the pickle imports {strings[0]}.{strings[1]}, which unpickling would run"})
        except Exception:  # joblib's numpy payloads follow the pickle stream: stop at the end of it
            pass
    return findings


def main():
    findings = []
    for arg in sys.argv[1:]:
        kind, _, path = arg.partition(":")
        findings.extend(scan_source(path) if kind == "source" else scan_pickle(path))
    print(json.dumps({"findings": findings}))


if __name__ == "__main__":
    main()
