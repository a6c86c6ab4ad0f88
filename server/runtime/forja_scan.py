"""Static checks of a deployment's files before it is built, as Neomaril's deploy checks did.

Source files: calls that reach the shell, evaluate code or delete trees are reported as warnings
(a scorer may need some). Pickles (pickle:<path>): every global a pickle imports (unpickling calls
it) must be on an allow-list of what scikit-learn, XGBoost, LightGBM, NumPy, pandas, SciPy and
joblib models reference, or in a module the deployment itself uploads (allow:<module>); anything
else is an error. Pickles inside a model that is code by design (code-pickle:<path>, e.g. an MLflow
pyfunc's cloudpickled python_model.pkl): what is not on the list is a warning, and only globals
that run commands or code are errors. The verdict is advisory: a static scan cannot prove a pickle
harmless, and the sandbox the model runs in is what actually contains it. Prints one JSON object.
"""

import ast
import io
import json
import pickletools
import re
import sys
import zipfile

RISKY_CALLS = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "os.system",
    "os.popen",
    "os.execv",
    "os.execve",
    "os.spawnl",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "shutil.rmtree",
    "socket.socket",
    "pty.spawn",
}

# Globals a pickled model may import, exactly.
SAFE_GLOBALS = {
    *(
        ("builtins", n)
        for n in ("slice", "set", "frozenset", "complex", "bytearray", "bytes", "object", "int", "float", "str", "list", "dict", "tuple", "bool", "range")
    ),
    *(
        ("__builtin__", n)
        for n in (
            "slice",
            "set",
            "frozenset",
            "complex",
            "bytearray",
            "bytes",
            "object",
            "int",
            "float",
            "str",
            "list",
            "dict",
            "tuple",
            "bool",
            "unicode",
            "long",
        )
    ),
    ("_codecs", "encode"),
    ("copyreg", "_reconstructor"),
    ("copy_reg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("copyreg", "__newobj_ex__"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("collections", "deque"),
    ("collections", "Counter"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
    ("fractions", "Fraction"),
    ("uuid", "UUID"),
    ("functools", "partial"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    *((m, n) for m in ("numpy.core.multiarray", "numpy._core.multiarray") for n in ("_reconstruct", "scalar")),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.ma", "MaskedArray"),
    ("numpy.ma.core", "MaskedArray"),
    ("numpy.ma.core", "_mareconstruct"),
    ("numpy.random.bit_generator", "SeedSequence"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("numpy.random._mt19937", "MT19937"),
    ("numpy.random._pcg64", "PCG64"),
    ("numpy.random._pcg64", "PCG64DXSM"),
    ("numpy.random._philox", "Philox"),
    ("numpy.random._sfc64", "SFC64"),
    ("numpy.random._generator", "Generator"),
    ("numpy.random.mtrand", "RandomState"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("joblib.numpy_pickle", "NDArrayWrapper"),
    ("joblib.numpy_pickle_compat", "NDArrayWrapper"),
    ("joblib.numpy_pickle_compat", "ZNDArrayWrapper"),
    *(
        ("pyarrow.lib", n)
        for n in ("_restore_array", "py_buffer", "type_for_alias", "_reconstruct_table", "_reconstruct_record_batch", "chunked_array", "field", "schema")
    ),
}
# NumPy's scalar types and dtype classes, as estimators keep them (dtype=np.float64).
NUMPY_TYPE = re.compile(
    r"(u?int(8|16|32|64)|float(16|32|64|128)|complex(64|128|256)|bool_?|object_|str_|bytes_|void|datetime64|timedelta64|u?intc|u?intp|u?longlong|u?short|u?byte|half|single|double|longdouble|c?single|c?double|clongdouble|\w+DType)"
)
# Modules whose classes and reconstructors a model is made of; not the parts that read or write files or run code.
SAFE_PACKAGES = ("sklearn", "xgboost", "lightgbm", "pandas", "scipy", "numpy.random._pickle", "numpy.dtypes")
UNSAFE_PARTS = re.compile(
    r"^(sklearn\.(datasets|utils\._testing|utils\._show_versions)|pandas\.(io|_testing|testing|util|plotting|core\.computation)|scipy\.(io|_lib\._testutils)|xgboost\.(testing|tracker|dask|spark|collective)|lightgbm\.dask)(\.|$)"
)
UNSAFE_NAMES = re.compile(
    r"^(read_\w*|to_\w*|eval|exec\w*|system|popen|getoutput|getstatusoutput|check_output|check_call|call|run|Popen|spawn\w*|open|load|loads|save|dump|dumps|rmtree|remove|unlink|test|show_versions|HDFStore|ExcelWriter|ExcelFile)$"
)


# Globals that run commands, evaluate code or touch files: an error in any pickle.
COMMAND_MODULES = re.compile(
    r"^(subprocess|_posixsubprocess|pty|socket|commands|runpy|code|codeop|ctypes|webbrowser|shutil|multiprocessing|asyncio\.subprocess)(\.|$)"
)
COMMAND_NAMES = {
    "os": re.compile(
        r"^(system|popen|exec\w*|spawn\w*|fork\w*|kill\w*|remove\w*|unlink|rmdir|rename\w*|replace|truncate|chmod|chown|symlink|link|putenv|setuid|setgid)$"
    ),
    "builtins": re.compile(r"^(eval|exec|compile|__import__|getattr|setattr|delattr|open|input|breakpoint|globals|locals|vars)$"),
    "importlib": re.compile(r"^(import_module|__import__|reload)$"),
}
COMMAND_NAMES.update({"posix": COMMAND_NAMES["os"], "nt": COMMAND_NAMES["os"], "__builtin__": COMMAND_NAMES["builtins"]})


def runs_commands(module, name):
    return bool(COMMAND_MODULES.match(module)) or bool(COMMAND_NAMES.get(module) and COMMAND_NAMES[module].match(name))


def safe_global(module, name, allowed_modules):
    if (module, name) in SAFE_GLOBALS:
        return True
    # A dotted name reaches attributes of attributes (DataFrame.to_pickle): never needed to rebuild a model.
    if "." in name or UNSAFE_NAMES.match(name):
        return False
    if module == "numpy" and NUMPY_TYPE.fullmatch(name):
        return True
    packages = SAFE_PACKAGES + tuple(allowed_modules)
    return any(module == p or module.startswith(p + ".") for p in packages) and not UNSAFE_PARTS.match(module)


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


MAX_UNPACKED = 2 * 1024**3


def unpacked(data):
    """joblib.dump(..., compress=…) writes the whole pickle compressed: scan what it unpacks to."""
    import bz2
    import lzma
    import zlib

    if data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif data[:1] == b"\x78" and len(data) > 1 and (data[0] * 256 + data[1]) % 31 == 0:
        d = zlib.decompressobj()
    elif data[:3] == b"BZh":
        d = bz2.BZ2Decompressor()
    elif data[:6] == b"\xfd7zXZ\x00" or data[:3] == b"]\x00\x00":
        d = lzma.LZMADecompressor()
    else:
        return data
    out = d.decompress(data, MAX_UNPACKED)
    if not d.eof:
        raise ValueError("the compressed data is cut off, or unpacks to more than 2 GiB")
    return out


def pickle_streams(path):
    if zipfile.is_zipfile(path):  # torch and some joblib files are zips of pickles
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith(".pkl") or name.endswith("data.pkl"):
                    yield name, z.read(name)
    else:
        with open(path, "rb") as f:
            yield path, unpacked(f.read())


class Unknown:
    """A value the walk does not follow."""


class Global:
    def __init__(self, module, name):
        self.module, self.name = module, name


class Obj:
    """What calling or instantiating a global would build; never built here."""

    def __init__(self, factory, args):
        self.factory, self.args, self.state = factory, args, None


LITERALS = {
    "NONE",
    "NEWTRUE",
    "NEWFALSE",
    "INT",
    "BININT",
    "BININT1",
    "BININT2",
    "LONG",
    "LONG1",
    "LONG4",
    "FLOAT",
    "BINFLOAT",
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
    "BINBYTES",
    "SHORT_BINBYTES",
    "BINBYTES8",
}
CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}


class PickleWalk:
    """Reads a pickle's opcodes the way an unpickler would, without importing or calling anything:
    it follows literals, tuples, dicts and the memo, so it knows the module and name of every global
    even when they were stored and fetched again, and it knows the shape of joblib's arrays, whose
    bytes joblib writes inside the stream (it skips them as joblib's loader reads them)."""

    def __init__(self):
        self.stack, self.marks, self.memo = [], [], {}

    def pop(self):
        return self.stack.pop() if self.stack else Unknown()

    def popmark(self):
        at = self.marks.pop() if self.marks else 0
        items = self.stack[at:]
        del self.stack[at:]
        return items

    def run(self, f):
        """Yields (module, name) for each global, (None, None) for a name computed at load time."""
        for op, arg, _pos in pickletools.genops(f):
            n = op.name
            if n in LITERALS:
                self.stack.append(CONSTANTS[n] if n in CONSTANTS else arg)
            elif n in ("GLOBAL", "INST"):
                module, _, name = str(arg).partition(" ")
                yield module, name
                if n == "INST":
                    self.stack.append(Obj(Global(module, name), tuple(self.popmark())))
                else:
                    self.stack.append(Global(module, name))
            elif n == "STACK_GLOBAL":
                name, module = self.pop(), self.pop()
                known = isinstance(module, str) and isinstance(name, str)
                yield (module, name) if known else (None, None)
                self.stack.append(Global(module, name) if known else Unknown())
            elif n == "MARK":
                self.marks.append(len(self.stack))
            elif n in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
                self.memo[len(self.memo) if n == "MEMOIZE" else arg] = self.stack[-1] if self.stack else Unknown()
            elif n in ("GET", "BINGET", "LONG_BINGET"):
                self.stack.append(self.memo.get(arg, Unknown()))
            elif n == "DUP":
                self.stack.append(self.stack[-1] if self.stack else Unknown())
            elif n == "EMPTY_TUPLE":
                self.stack.append(())
            elif n in ("TUPLE1", "TUPLE2", "TUPLE3"):
                items = [self.pop() for _ in range(int(n[-1]))]
                self.stack.append(tuple(reversed(items)))
            elif n == "TUPLE":
                self.stack.append(tuple(self.popmark()))
            elif n == "EMPTY_DICT":
                self.stack.append({})
            elif n in ("SETITEM", "SETITEMS"):
                items = self.popmark() if n == "SETITEMS" else [self.pop(), self.pop()][::-1]
                target = self.stack[-1] if self.stack else None
                for k, v in zip(items[::2], items[1::2]):
                    if isinstance(target, dict) and isinstance(k, (str, int, bytes)):
                        target[k] = v
            elif n in ("REDUCE", "NEWOBJ"):
                args = self.pop()
                self.stack.append(Obj(self.pop(), args))
            elif n == "NEWOBJ_EX":
                self.pop()
                args = self.pop()
                self.stack.append(Obj(self.pop(), args))
            elif n == "OBJ":
                items = self.popmark()
                self.stack.append(Obj(items[0], tuple(items[1:])) if items else Unknown())
            elif n == "BUILD":
                state = self.pop()
                target = self.stack[-1] if self.stack else None
                if isinstance(target, Obj):
                    target.state = state
                    yield from self.joblib_array(target, f)
            else:
                before = op.stack_before
                if pickletools.markobject in before:
                    self.popmark()
                    below = before.index(pickletools.markobject)
                else:
                    below = len(before)
                for _ in range(below):
                    self.pop()
                self.stack.extend(Unknown() for _ in op.stack_after)

    def joblib_array(self, wrapper, f):
        """joblib writes an array's bytes right after its NumpyArrayWrapper: skip them, or walk the
        pickle it writes there for an array of objects."""
        cls = wrapper.factory
        if not (isinstance(cls, Global) and cls.name == "NumpyArrayWrapper" and cls.module.endswith("joblib.numpy_pickle")):
            return
        state = wrapper.state if isinstance(wrapper.state, dict) else {}
        dtype, shape = state.get("dtype"), state.get("shape")
        if not (isinstance(dtype, Obj) and isinstance(dtype.args, tuple) and dtype.args and isinstance(dtype.args[0], str) and isinstance(shape, tuple)):
            raise ValueError("a joblib array whose dtype or shape the scan cannot read")
        typestr, info = dtype.args[0], dtype.state if isinstance(dtype.state, tuple) else ()
        flags = info[7] if len(info) > 7 and isinstance(info[7], int) else 0
        if typestr.startswith("O") or flags & 1:
            yield from PickleWalk().run(f)
            return
        size = info[5] if len(info) > 5 and isinstance(info[5], int) and info[5] > 0 else int(re.sub(r"\D", "", typestr) or 0)
        count = 1
        for d in shape:
            if not isinstance(d, int):
                raise ValueError("a joblib array whose shape the scan cannot read")
            count *= d
        skip = count * size
        if state.get("numpy_array_alignment_bytes") is not None:
            skip += 1 + f.read(1)[0]
            f.seek(-1, 1)
        f.seek(skip, 1)


def pickle_globals(data):
    """The globals of a stream, where the walk stopped, and why if it could not read on to the end."""
    f = io.BytesIO(data)
    found = []
    try:
        found.extend(PickleWalk().run(f))
        return found, f.tell(), None
    except Exception as exc:
        return found, f.tell(), exc


# What GLOBAL and STACK_GLOBAL look like as bytes, for the part of a file the opcode walk cannot read.
RAW_GLOBAL = re.compile(rb"[ci]([A-Za-z_][\w.]{0,200})\n([A-Za-z_][\w.]{0,200})\n")
RAW_STACK_GLOBAL = re.compile(rb"\x8c([\x01-\xff])")


def raw_globals(data, start):
    """Globals written in the usual encodings after `start`: joblib's inline arrays hide the rest of the stream from the opcode walk."""
    for m in RAW_GLOBAL.finditer(data, start):
        yield m.group(1).decode("latin-1"), m.group(2).decode("latin-1"), m.start()
    for m in RAW_STACK_GLOBAL.finditer(data, start):
        i = m.start()
        module = data[i + 2 : i + 2 + data[i + 1]]
        j = i + 2 + data[i + 1] + (1 if data[i + 2 + data[i + 1] : i + 3 + data[i + 1]] == b"\x94" else 0)
        if data[j : j + 1] != b"\x8c" or j + 1 >= len(data):
            continue
        name = data[j + 2 : j + 2 + data[j + 1]]
        k = j + 2 + data[j + 1]
        k += 1 if data[k : k + 1] == b"\x94" else 0
        if data[k : k + 1] == b"\x93" and re.fullmatch(rb"[A-Za-z_][\w.]*", module) and re.fullmatch(rb"[A-Za-z_][\w.]*", name):
            yield module.decode(), name.decode(), i


def scan_pickle(path, allowed_modules=(), carries_code=False):
    """carries_code: the model is code by design, so only globals that run commands are errors."""
    findings = []

    def report(file, module, name):
        if module is None:
            message = "the pickle builds the name of what it imports while it loads, so the scan cannot tell what unpickling would run"
        elif runs_commands(module, name):
            message = f"the pickle imports {module}.{name}, which runs commands or code; unpickling would call it"
        else:
            hint = (
                " (a class defined in a training script's __main__ cannot be loaded here: put it in a .py file uploaded with the deployment)"
                if module == "__main__"
                else ""
            )
            message = f"the pickle imports {module}.{name}, which is not on the list of what a model may reference; unpickling would call it{hint}"
        refused = not carries_code or module is None or runs_commands(module, name)
        findings.append({"level": "error" if refused else "warning", "file": file, "line": None, "message": message})

    for name, data in pickle_streams(path):
        found, end, failure = pickle_globals(data)
        if failure is not None:
            findings.append(
                {
                    "level": "warning" if carries_code else "error",
                    "file": name,
                    "line": None,
                    "message": f"could not be scanned past byte {end} ({failure}): a pickle the scan cannot read is not one it passed",
                }
            )
        # Past where the walk stopped, look for globals by their bytes: what is hidden there still counts.
        found += [(module, attr) for module, attr, _pos in raw_globals(data, end)]
        for module, attr in dict.fromkeys(found):
            if module is None or runs_commands(module, attr) or not safe_global(module, attr, allowed_modules):
                report(name, module, attr)
    return findings


def main():
    findings = []
    args = [a.partition(":")[::2] for a in sys.argv[1:]]
    allowed = [path for kind, path in args if kind == "allow"]
    for kind, path in args:
        try:
            if kind == "source":
                findings.extend(scan_source(path))
            elif kind in ("pickle", "code-pickle"):
                findings.extend(scan_pickle(path, allowed, carries_code=kind == "code-pickle"))
        except Exception as exc:  # a file the scan cannot read is not a file it passed
            findings.append({"level": "error" if kind == "pickle" else "warning", "file": path, "line": None, "message": f"could not be scanned: {exc}"})
    print(json.dumps({"findings": findings}))


if __name__ == "__main__":
    main()
