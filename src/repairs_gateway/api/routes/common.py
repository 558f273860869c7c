"""Declarations shared by the routes: problem responses as the spec lists them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

DESCRIPTIONS = {
    400: "The request breaks the schema; `errors` names each field.",
    401: "The API key is missing or not valid.",
    403: "The API key may not use this council.",
    404: "No such council or repair.",
    409: "The window was taken, or the repair's state forbids the change.",
    413: "The body is over the size limit.",
    415: "The body is not application/json.",
    422: "Well-formed but not acceptable; `errors` names the field.",
    503: "A council system is not answering.",
}


class FieldErrorOut(BaseModel):
    """One field that was wrong."""

    field: str
    location: str
    message: str


class ProblemOut(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldErrorOut] | None = None


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route answering these problem codes."""
    return {
        code: {
            "model": ProblemOut,
            "description": DESCRIPTIONS[code],
            "content": {"application/problem+json": {}},
        }
        for code in codes
    }
