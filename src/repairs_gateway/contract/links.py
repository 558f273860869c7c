"""Following the spec's OpenAPI links: the next request's values, computed from the previous
request and its answer exactly as the spec's runtime expressions say."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from schemathesis import Case, Response

from repairs_gateway.spec import spec_document


class LinkError(Exception):
    """A link the spec does not define, or whose expression names nothing in the answer."""


@dataclass(slots=True)
class LinkedValues:
    """The values a link gives the operation it leads to."""

    operation: str
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


@cache
def _spec() -> dict[str, Any]:
    """The spec, parsed once: links only read it, and parsing it takes most of a second."""
    return spec_document()


def _operation(operation_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    for path, item in _spec()["paths"].items():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return path, item, operation
    raise LinkError(f"the spec has no operation {operation_id}")


def _pointer(document: Any, pointer: str) -> Any:
    current = document
    for raw in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        elif isinstance(current, dict) and token in current:
            current = current[token]
        else:
            raise LinkError(f"the answer has nothing at {pointer}")
    return current


def evaluate(expression: Any, case: Case[Any], response: Response) -> Any:
    """The value of one runtime expression (or a literal) for this request and answer."""
    if isinstance(expression, dict):
        return {key: evaluate(value, case, response) for key, value in expression.items()}
    if not isinstance(expression, str) or not expression.startswith("$"):
        return expression
    if expression.startswith("$response.body#"):
        return _pointer(response.json(), expression.split("#", 1)[1])
    sources: Mapping[str, Mapping[str, Any]] = {
        "$request.path.": case.path_parameters,
        "$request.query.": case.query,
        "$request.header.": case.headers,
    }
    for prefix, values in sources.items():
        if expression.startswith(prefix):
            name = expression[len(prefix) :]
            if name not in values:
                raise LinkError(f"the request has no {name} for {expression}")
            return values[name]
    raise LinkError(f"unsupported runtime expression {expression}")


def follow(source: str, status: int, name: str, case: Case[Any], response: Response) -> LinkedValues:
    """The values the link ``name`` of ``source``'s ``status`` answer gives its target."""
    _, _, operation = _operation(source)
    link = operation.get("responses", {}).get(str(status), {}).get("links", {}).get(name)
    if not isinstance(link, dict):
        raise LinkError(f"{source} has no link {name} on {status}")
    target_path, target_item, target = _operation(link["operationId"])
    declared = [*target_item.get("parameters", []), *target.get("parameters", [])]
    locations = {p.get("name"): p.get("in") for p in declared if isinstance(p, dict) and "name" in p}
    for parameter in declared:
        if "$ref" in parameter:  # the spec declares parameters by reference
            resolved = _pointer(_spec(), parameter["$ref"].split("#", 1)[1])
            locations[resolved["name"]] = resolved["in"]
    values = LinkedValues(link["operationId"])
    for parameter, expression in link.get("parameters", {}).items():
        value = evaluate(expression, case, response)
        if locations.get(parameter) == "path" or f"{{{parameter}}}" in target_path:
            values.path[parameter] = value
        else:
            values.query[parameter] = value
    if "requestBody" in link:
        values.body = evaluate(link["requestBody"], case, response)
    return values
