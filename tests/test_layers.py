"""The layers import only downward (see docs/architecture.md).

Each rule reads the source of a package with ``ast`` (every import, also those inside
functions or under ``TYPE_CHECKING``) and fails naming the file, the line and the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "repairs_gateway"

# The application, its database, the demo and the processes that run them: what neither the
# contract suite nor the conformance kit may need.
APP = ("api", "builtin", "cli", "config", "demo", "persistence", "runtime", "services", "worker")


@dataclass(frozen=True)
class Rule:
    package: str
    allowed: tuple[str, ...] | None = None
    forbidden: tuple[str, ...] = ()
    why: str = ""

    def breaks(self, imported: str) -> bool:
        if not _within(imported, ROOT):
            return False
        if self.allowed is not None and not any(_within(imported, f"{ROOT}.{a}") for a in self.allowed):
            return True
        return any(_within(imported, f"{ROOT}.{f}") for f in self.forbidden)


RULES = [
    Rule("ports", allowed=("ports",), why="the ports are the bottom layer: adapters import them"),
    Rule("domain", allowed=("domain", "ports"), why="the domain imports nothing above the ports"),
    Rule(
        "contract",
        forbidden=(*APP, "conformance", "testing"),
        why="the contract suite holds any implementation to the spec; it needs none of the app",
    ),
    Rule(
        "conformance",
        forbidden=(*APP, "contract"),
        why="the conformance kit holds adapters to the ports; it needs none of the app",
    ),
    Rule(
        "persistence",
        forbidden=("api", "services", "worker", "cli", "demo", "runtime"),
        why="storage knows the domain, never the use cases or HTTP above it",
    ),
    Rule(
        "services",
        forbidden=("api", "worker", "cli", "demo"),
        why="use cases raise domain errors; HTTP is the api's business",
    ),
]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, src: Path = SRC) -> Iterator[tuple[int, str]]:
    """Every module or name the file imports, absolute, with its line."""
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def violations(rule: Rule, src: Path = SRC) -> list[str]:
    found = []
    for path in sorted((src / ROOT / rule.package).rglob("*.py")):
        for line, imported in sorted(imports_of(path, src)):
            if rule.breaks(imported):
                found.append(f"{path.relative_to(src).as_posix()}:{line} imports {imported}")
    return found


@pytest.mark.parametrize("rule", RULES, ids=[r.package for r in RULES])
def test_the_package_imports_only_what_its_layer_may(rule: Rule) -> None:
    assert (SRC / ROOT / rule.package).is_dir()
    found = violations(rule)
    assert not found, f"{rule.why}:\n" + "\n".join(found)


def test_the_rules_tell_downward_imports_from_upward_ones() -> None:
    tokens = SRC / ROOT / "domain" / "tokens.py"
    assert any(_within(name, f"{ROOT}.ports") for _, name in imports_of(tokens))
    rule = RULES[1]
    assert rule.breaks("repairs_gateway.config.schema.CouncilSpec")
    assert rule.breaks("repairs_gateway.runtime")
    assert not rule.breaks("repairs_gateway.ports.Job")
    assert not rule.breaks("repairs_gateway.domain.errors.DomainError")
    assert not rule.breaks("datetime.datetime")
    assert RULES[2].breaks("repairs_gateway.demo.data.demo_document")
    assert not RULES[2].breaks("repairs_gateway.spec.spec_document")


def test_relative_nested_and_type_checking_imports_are_all_seen(tmp_path: Path) -> None:
    package = tmp_path / ROOT / "domain"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import tokens\n"
        "from ..config import schema\n"
        "if TYPE_CHECKING:\n"
        "    from repairs_gateway.api import app\n"
        "def later():\n"
        "    import repairs_gateway.services.repairs\n"
    )
    assert violations(RULES[1], tmp_path) == [
        "repairs_gateway/domain/bad.py:3 imports repairs_gateway.config.schema",
        "repairs_gateway/domain/bad.py:5 imports repairs_gateway.api.app",
        "repairs_gateway/domain/bad.py:7 imports repairs_gateway.services.repairs",
    ]
