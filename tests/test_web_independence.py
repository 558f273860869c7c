"""The resident site talks to the gateway only through the published API: nothing in
repairs_gateway.web imports the gateway's own code (the demo's glue may use its server)."""

from __future__ import annotations

import ast
from pathlib import Path

import repairs_gateway.web

WEB = Path(repairs_gateway.web.__file__).parent
# The demo's glue serves the sites beside the gateway with the project's ASGI server helper.
ALLOWED_OUTSIDE = {"demo_sites.py": {"repairs_gateway.serving"}}


def _gateway_imports(source: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {
        name
        for name in names
        if name.startswith("repairs_gateway") and not name.startswith("repairs_gateway.web")
    }


def test_the_site_imports_nothing_of_the_gateway() -> None:
    # Its packages too (report/): every module under web/, named by its path there.
    modules = sorted(WEB.rglob("*.py"))
    assert len(modules) > 5
    assert any(module.parent != WEB for module in modules)
    for module in modules:
        name = module.relative_to(WEB).as_posix()
        outside = _gateway_imports(module) - ALLOWED_OUTSIDE.get(name, set())
        assert not outside, f"{name} imports {sorted(outside)}"
