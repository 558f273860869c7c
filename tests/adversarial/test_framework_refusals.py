"""Every refusal the framework makes, not a route, is a problem document (issue 14): unknown
paths, wrong methods, a trailing slash (which answered 307 and then a plain-text 405) and
bodies too large."""

from __future__ import annotations

import httpx
import pytest

from gateway_support import Gateway
from journey import NORTHFIELD, first_window, repair_body

PROBLEM = "application/problem+json"


def problem_of(response: httpx.Response, status: int) -> dict[str, object]:
    """The response is a problem document with ``status``; returns it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    document: dict[str, object] = response.json()
    assert {"type", "title", "status", "detail"} <= document.keys()
    assert document["status"] == status
    return document


async def test_an_unknown_path_is_a_404_problem_naming_it(gateway: Gateway) -> None:
    answer = await gateway.client.get("/v1/no-such-thing", headers=gateway.auth())
    problem = problem_of(answer, 404)
    assert "/v1/no-such-thing" in str(problem["detail"]) and problem["instance"] == "/v1/no-such-thing"


@pytest.mark.parametrize(
    "path", [f"{NORTHFIELD}/repairs/", f"{NORTHFIELD}/appointments/", "/v1/councils/", "/healthz/"]
)
async def test_a_trailing_slash_is_a_404_problem_not_a_redirect(gateway: Gateway, path: str) -> None:
    for follow in (False, True):
        answer = await gateway.client.get(path, headers=gateway.auth(), follow_redirects=follow)
        assert "location" not in answer.headers
        problem = problem_of(answer, 404)
        assert path.rstrip("/") in str(problem["detail"])  # the path meant, without the slash


async def test_posting_to_a_trailing_slash_stores_nothing(gateway: Gateway) -> None:
    window = await first_window(gateway)
    answer = await gateway.client.post(
        f"{NORTHFIELD}/repairs/",
        json=repair_body(window["id"]),
        headers=gateway.auth(),
        follow_redirects=True,
    )
    problem_of(answer, 404)
    assert await gateway.count() == 0


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"{NORTHFIELD}/repairs", "POST"),
        ("PUT", "/healthz", "GET"),
        ("PATCH", f"{NORTHFIELD}/addresses", "GET"),
    ],
)
async def test_a_method_not_allowed_is_a_405_problem_with_allow(
    gateway: Gateway, method: str, path: str, allowed: str
) -> None:
    answer = await gateway.client.request(method, path, headers=gateway.auth())
    problem = problem_of(answer, 405)
    assert allowed in answer.headers["allow"]
    assert method in str(problem["detail"]) and allowed in str(problem["detail"])


async def test_a_body_too_large_is_a_413_problem_and_nothing_is_stored(gateway: Gateway) -> None:
    window = await first_window(gateway)
    body = repair_body(window["id"], description="x" * 20_000)
    answer = await gateway.client.post(f"{NORTHFIELD}/repairs", json=body, headers=gateway.auth())
    assert problem_of(answer, 413)["type"] == "/problems/payload-too-large"
    assert await gateway.count() == 0
