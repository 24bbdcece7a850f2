"""The domain's layout (docs/ARCHITECTURE.md): models/ is packages by capability, imports only run
down the stack, and the doors import only what a package exports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top: a package may import only itself and the packages before it.
STACK = ["kernel", "program", "ledger", "campaigns", "customers", "purchase", "till", "reports", "owner",
         "automation", "partner"]
DOORS = ["handlers", "bot", "scheduler", "sandbox"]


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names]
    return found


def _models_modules(module: str, names: list[str]) -> list[str]:
    """The models modules an import statement reaches: `from models import till` is models.till."""
    if module == "models":
        return [f"models.{n}" for n in names]
    return [module] if module.startswith("models.") else []


def test_models_is_packages_by_capability() -> None:
    flat = sorted(p.name for p in (ROOT / "models").glob("*.py") if p.name != "__init__.py")
    assert flat == []
    packages = sorted(p.name for p in (ROOT / "models").iterdir() if (p / "__init__.py").exists())
    assert packages == sorted(STACK)


@pytest.mark.parametrize("package", STACK)
def test_no_import_runs_back_up(package: str) -> None:
    allowed = set(STACK[: STACK.index(package) + 1])
    wrong = []
    for path in sorted((ROOT / "models" / package).rglob("*.py")):
        for line, module, names in _imports(path):
            for target in _models_modules(module, names):
                reached = target.split(".")[1]
                if reached not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert wrong == []


def test_doors_import_only_package_exports() -> None:
    wrong = []
    for door in DOORS:
        for path in sorted((ROOT / door).rglob("*.py")):
            for line, module, names in _imports(path):
                for target in _models_modules(module, names):
                    parts = target.split(".")
                    if len(parts) != 2 or parts[1] not in STACK:
                        wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
                        continue
                    if module != "models":  # from models.<package> import name: an export
                        exported = __import__(target, fromlist=["__all__"]).__all__
                        wrong += [f"{path.relative_to(ROOT)}:{line} imports {target}.{n}, not exported"
                                  for n in names if n not in exported]
    assert wrong == []


@pytest.mark.parametrize("door", ["handlers", "bot/commands"])
def test_doors_open_no_transaction(door: str) -> None:
    """A handler or a CLI command calls a use case; it never opens a session of its own."""
    opened = []
    for path in sorted((ROOT / door).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"transaction", "reading", "begin", "session"}
                    and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self")):
                opened.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}()")
    assert opened == []
