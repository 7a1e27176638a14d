"""The package's structure, read from its source with ast: layers, cycles, private names, lazy imports, size.

Layers, lowest first; a module may import its own layer or a lower one, never a higher one:

  L0  jvbjoin (the package itself), jvbjoin.errors
  L1  jvbjoin.formats.*        pure text formats
  L2  jvbjoin.system.*         host adapters that know nothing of Jitsi
  L3  jvbjoin.engine.*
  L4  jvbjoin.xmpp.*
  L5  jvbjoin.doctor.core, jvbjoin.doctor.facts   (the checks' vocabulary and shared readers)
  L6  jvbjoin.steps.*
  L7  jvbjoin.bridge.*
  L8  jvbjoin.server.*         (may use the bridge: the server can run its own bridge)
  L9  jvbjoin.doctor.*         other than core and facts (the runner: role detection, bridge and server checks)
  L10 jvbjoin.cli.*            the only importer of click (and jvbjoin.__main__, which starts it)

Every import counts, at module level or inside a function. Besides the layers: the module graph has no
cycles, no module imports another module's private (underscore) name, imports inside functions are
only in jvbjoin.cli or of a heavy optional library, and no module is over MAX_LINES lines.
"""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = "jvbjoin"
PACKAGE_DIR = os.path.join(ROOT, PACKAGE)

MAX_LINES = 400

# Libraries heavy enough (or optional enough) to be imported where they are needed, not at start-up
# (python3-cryptography: jvbjoin.formats.pin reads certificates with it only when one is read).
LAZY_LIBRARIES = frozenset({"slixmpp", "dbus_next", "debian", "jinja2", "click", "cryptography"})

# Third-party libraries only one layer may import.
ONLY_IN = {"click": "jvbjoin.cli"}

LAYERS = (
    # (layer, name, prefix): the longest matching prefix decides.
    (0, "L0 errors", "jvbjoin"),
    (0, "L0 errors", "jvbjoin.errors"),
    (1, "L1 formats", "jvbjoin.formats"),
    (2, "L2 system", "jvbjoin.system"),
    (3, "L3 engine", "jvbjoin.engine"),
    (4, "L4 xmpp", "jvbjoin.xmpp"),
    (5, "L5 doctor vocabulary", "jvbjoin.doctor.core"),
    (5, "L5 doctor vocabulary", "jvbjoin.doctor.facts"),
    (6, "L6 steps", "jvbjoin.steps"),
    (7, "L7 bridge", "jvbjoin.bridge"),
    (8, "L8 server", "jvbjoin.server"),
    (9, "L9 doctor", "jvbjoin.doctor"),
    (10, "L10 cli", "jvbjoin.cli"),
    (10, "L10 cli", "jvbjoin.__main__"),
)


def layer_of(module):
    """(number, name) of the layer a jvbjoin module belongs to."""
    best = None
    for number, name, prefix in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[2]):
                best = (number, name, prefix)
    assert best is not None, "no layer for {}".format(module)
    return best[0], best[1]


def in_package(module, package):
    return module == package or module.startswith(package + ".")


class Import(object):
    """One import statement's target, as seen from the module that makes it."""

    def __init__(self, source, lineno, target, names, in_function, top):
        self.source = source  # the importing module's SourceFile
        self.lineno = lineno
        self.target = target  # the jvbjoin module it names (or None for a third-party import)
        self.names = names  # for `from M import a, b` the names a, b that are not submodules of M
        self.in_function = in_function
        self.top = top  # the top-level name of what it imports: "jvbjoin", "slixmpp", "os"...

    @property
    def where(self):
        return "{}:{}".format(self.source.relpath, self.lineno)


class SourceFile(object):
    def __init__(self, path):
        self.path = path
        self.relpath = os.path.relpath(path, ROOT)
        parts = os.path.splitext(self.relpath)[0].split(os.sep)
        self.is_package = parts[-1] == "__init__"
        if self.is_package:
            parts = parts[:-1]
        self.module = ".".join(parts)
        with open(path, encoding="utf-8") as f:
            self.text = f.read()
        self.tree = ast.parse(self.text, filename=self.relpath)

    @property
    def lines(self):
        return len(self.text.splitlines())


def _source_files():
    found = []
    for folder, dirs, files in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                found.append(SourceFile(os.path.join(folder, name)))
    return found


SOURCES = _source_files()
MODULES = {s.module for s in SOURCES}


def _walk_with_function(node, in_function=False):
    """Every node under `node`, with whether it sits inside a function body."""
    for child in ast.iter_child_nodes(node):
        inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield child, in_function
        for item in _walk_with_function(child, inside):
            yield item


def _absolute(source, node):
    """The absolute module a `from ... import` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = source.module.split(".")
    if not source.is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(module):
    """The closest jvbjoin module that exists for a dotted name (jvbjoin.a.b.attr -> jvbjoin.a.b)."""
    parts = module.split(".")
    while parts:
        name = ".".join(parts)
        if name in MODULES:
            return name
        parts.pop()
    return None


def _imports_of(source):
    result = []
    for node, in_function in _walk_with_function(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                target = _known(alias.name) if top == PACKAGE else None
                result.append(Import(source, node.lineno, target, [], in_function, top))
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(source, node)
            top = module.split(".")[0]
            if top != PACKAGE:
                result.append(Import(source, node.lineno, None, [], in_function, top))
                continue
            plain = []
            for alias in node.names:
                sub = "{}.{}".format(module, alias.name)
                if sub in MODULES:
                    result.append(Import(source, node.lineno, sub, [], in_function, top))
                else:
                    plain.append(alias.name)
            if plain:
                result.append(Import(source, node.lineno, _known(module), plain, in_function, top))
    return result


IMPORTS = [imp for source in SOURCES for imp in _imports_of(source)]


def _report(title, problems):
    return "{} ({}):\n  {}".format(title, len(problems), "\n  ".join(problems))


def test_the_walk_sees_the_package():
    assert "jvbjoin.errors" in MODULES and "jvbjoin.engine.core" in MODULES
    assert any(imp.target == "jvbjoin.errors" for imp in IMPORTS)
    assert all(imp.target is None or imp.target in MODULES for imp in IMPORTS)


def test_no_module_imports_a_higher_layer():
    problems = []
    for imp in IMPORTS:
        if imp.target is None:
            continue
        mine, my_name = layer_of(imp.source.module)
        theirs, their_name = layer_of(imp.target)
        if theirs > mine:
            problems.append(
                "{}: {} ({}) imports {} ({}), a higher layer".format(
                    imp.where, imp.source.module, my_name, imp.target, their_name
                )
            )
    assert not problems, _report("a lower layer imports a higher one", problems)


def test_libraries_that_belong_to_one_layer():
    problems = []
    for imp in IMPORTS:
        owner = ONLY_IN.get(imp.top)
        if owner and not in_package(imp.source.module, owner):
            problems.append("{}: {} imports {}, which only {} may import".format(imp.where, imp.source.module, imp.top, owner))
    assert not problems, _report("a library imported outside its layer", problems)


def test_no_private_names_across_modules():
    problems = []
    for imp in IMPORTS:
        if imp.target is None or imp.target == imp.source.module:
            continue
        for name in imp.names:
            if name.startswith("_") and not name.startswith("__"):
                problems.append("{}: {} imports the private name {} from {}".format(imp.where, imp.source.module, name, imp.target))
    problems.extend(_private_attributes())
    assert not problems, _report("a private name used across modules", problems)


def _private_attributes():
    """`module._name` where `module` is a jvbjoin module bound by an import in another module."""
    problems = []
    for source in SOURCES:
        bound = {}
        for node, _ in _walk_with_function(source.tree):
            if isinstance(node, ast.ImportFrom) and _absolute(source, node).split(".")[0] == PACKAGE:
                module = _absolute(source, node)
                for alias in node.names:
                    sub = "{}.{}".format(module, alias.name)
                    if sub in MODULES:
                        bound[alias.asname or alias.name] = sub
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in MODULES:
                        bound[alias.asname] = alias.name
        for node, _ in _walk_with_function(source.tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and bound[node.value.id] != source.module
            ):
                problems.append(
                    "{}:{}: {} uses the private name {} of {}".format(
                        source.relpath, node.lineno, source.module, node.attr, bound[node.value.id]
                    )
                )
    return problems


def test_imports_inside_functions_only_in_cli_or_for_heavy_libraries():
    problems = []
    for imp in IMPORTS:
        if not imp.in_function:
            continue
        if in_package(imp.source.module, "jvbjoin.cli") or imp.top in LAZY_LIBRARIES:
            continue
        what = imp.target or imp.top
        problems.append("{}: {} imports {} inside a function".format(imp.where, imp.source.module, what))
    title = "an import inside a function outside jvbjoin.cli, of other than {}".format(", ".join(sorted(LAZY_LIBRARIES)))
    assert not problems, _report(title, problems)


def _cycles(edges):
    """The strongly connected components with more than one module (or a module importing itself)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(start):
        # Tarjan's algorithm, iterative so a deep graph cannot overflow the stack.
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    edges, where = {}, {}
    for imp in IMPORTS:
        if imp.target is None or imp.target == imp.source.module:
            continue
        edges.setdefault(imp.source.module, set()).add(imp.target)
        where.setdefault((imp.source.module, imp.target), []).append(imp.where)
    problems = []
    for component in _cycles(edges):
        members = set(component)
        links = [
            "{} -> {} ({})".format(a, b, ", ".join(where[(a, b)]))
            for a in component
            for b in sorted(edges.get(a, ()))
            if b in members
        ]
        problems.append("cycle among {}:\n    {}".format(", ".join(component), "\n    ".join(links)))
    assert not problems, _report("an import cycle", problems)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.relpath)
def test_no_module_is_too_long(source):
    assert source.lines <= MAX_LINES, "{}: {} lines, over the limit of {}".format(source.relpath, source.lines, MAX_LINES)


def test_the_checker_finds_a_cycle_and_resolves_relative_imports():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    fake = SourceFile.__new__(SourceFile)
    fake.module, fake.is_package = "jvbjoin.bridge.checks.link", False
    node = ast.parse("from ..steps import config").body[0]
    assert _absolute(fake, node) == "jvbjoin.bridge.steps"
    assert layer_of("jvbjoin.doctor.facts") == (5, "L5 doctor vocabulary")
    assert layer_of("jvbjoin.doctor.runner") == (9, "L9 doctor")
    assert layer_of("jvbjoin") == (0, "L0 errors")


def test_every_package_folder_is_a_package():
    """A folder of modules without __init__.py imports in the tests (as a namespace package) but is
    left out of the .deb by setuptools' package finder."""
    missing = []
    for folder, dirs, names in os.walk(PACKAGE_DIR):
        dirs[:] = [d for d in dirs if d != "__pycache__" and d != "templates"]
        if any(name.endswith(".py") for name in names) and "__init__.py" not in names:
            missing.append(os.path.relpath(folder, ROOT))
    assert not missing, "folders of modules without __init__.py: {}".format(", ".join(missing))
