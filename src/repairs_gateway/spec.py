"""Where the standard lives: ``openapi/repairs-api.yaml``, shipped inside the package's wheel
and read from the repository in a source checkout."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

SPEC_NAME = "repairs-api.yaml"


def spec_path() -> Path:
    """The path of the spec file."""
    packaged = Path(str(files("repairs_gateway"))) / "openapi" / SPEC_NAME
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "openapi" / SPEC_NAME
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"{SPEC_NAME} is neither in the package nor in a source checkout")


@cache
def spec_text() -> str:
    """The spec, as published."""
    return spec_path().read_text(encoding="utf-8")


def spec_document() -> dict[str, Any]:
    """The spec, parsed."""
    document: dict[str, Any] = yaml.safe_load(spec_text())
    return document
