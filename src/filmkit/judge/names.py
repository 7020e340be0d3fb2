"""Which names a cell reads from the notebook's namespace (computed by the grader, from the
instructor's own source).

``free_names(source)`` is every global name the cell (after IPython's input transformations:
magics become calls) loads before the cell itself binds it, in any scope: at top level, in a
function or class body, in a comprehension. A name the cell binds before it first reads it, in
reading order (``_found = …`` and then ``_found[…]``), is its own, so the student's value of
that name is never asked for. Builtins are never asked for: a test's ``list(…)`` or ``len(…)`` is
the judge's own, whatever the student bound to that name (a student's ``list = lambda …`` would
otherwise compute the test's expected value). The sandbox sends only the names its namespace holds.
What a line magic's own text reads (``%time x.sum()``) is not seen: a test that needs a name
there must also name it in Python. Precision matters: the sandbox refuses to send a value that is not data, and
that refusal fails the test, so a name the cell never reads must not be asked for.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from functools import lru_cache


def _transform(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return str(TransformerManager().transform_cell(source))  # type: ignore[no-untyped-call]


def _globals_read_in_children(table: symtable.SymbolTable) -> set[str]:
    """Implicitly global names loaded in nested scopes (functions, lambdas, comprehensions)."""
    found: set[str] = set()
    for child in table.get_children():
        for symbol in child.get_symbols():
            if symbol.is_referenced() and (symbol.is_global() or symbol.is_free()):
                found.add(symbol.get_name())
        found |= _globals_read_in_children(child)
    return found


class _Order(ast.NodeVisitor):
    """Top-level names in the order the cell first loads or binds them."""

    def __init__(self) -> None:
        self.first: dict[str, str] = {}  # name → "load" | "store"

    def _see(self, name: str, how: str) -> None:
        self.first.setdefault(name, how)

    def visit_Name(self, node: ast.Name) -> None:
        self._see(node.id, "load" if isinstance(node.ctx, ast.Load) else "store")

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)  # the value is evaluated before the targets are bound
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self._see(node.target.id, "load")  # x += 1 reads x first
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            if name != "*":
                self._see(name, "store")

    visit_ImportFrom = visit_Import

    def _scope(self, node: ast.AST, name: str) -> None:
        # decorators, defaults and bases are evaluated at top level; the body is its own scope
        for field in ("decorator_list", "bases", "keywords"):
            for item in getattr(node, field, []):
                self.visit(item)
        arguments = getattr(node, "args", None)
        if isinstance(arguments, ast.arguments):
            for default in [*arguments.defaults, *arguments.kw_defaults]:
                if default is not None:
                    self.visit(default)
        self._see(name, "store")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._scope(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)

    def _comprehension(self, node: ast.AST) -> None:
        generators = getattr(node, "generators", [])
        if generators:
            self.visit(generators[0].iter)  # only the first iterable is evaluated outside

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension


@lru_cache(maxsize=512)
def free_names(source: str) -> tuple[str, ...]:
    """The names ``source`` reads from the namespace it runs in, sorted. A cell that does not
    parse reads nothing (it fails as it would have in a kernel)."""
    try:
        python = _transform(source)
        tree = ast.parse(python)
        table = symtable.symtable(python, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return ()
    order = _Order()
    for statement in tree.body:
        order.visit(statement)
    read = {name for name, how in order.first.items() if how == "load"}
    bound_first = {name for name, how in order.first.items() if how == "store"}
    # a name bound at top level before any read is the cell's own, even where a nested scope
    # reads it later; one only read in nested scopes is the namespace's
    read |= _globals_read_in_children(table) - bound_first
    return tuple(sorted(read - set(dir(builtins))))


@lru_cache(maxsize=512)
def bound_names(source: str) -> frozenset[str]:
    """The names ``source`` binds in the namespace it runs in (assignments, imports, ``def``
    and ``class`` at top level): what a later cell could read of it."""
    try:
        table = symtable.symtable(_transform(source), "<cell>", "exec")
    except (SyntaxError, ValueError):
        return frozenset()
    return frozenset(
        s.get_name()
        for s in table.get_symbols()
        if s.is_assigned() or s.is_imported() or s.is_namespace()
    )
