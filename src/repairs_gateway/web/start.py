"""The site's start page: report a repair, or check one already reported."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.site import site_of

router = APIRouter()


@router.get("/")
async def start(request: Request) -> Response:
    """The start page."""
    return await site_of(request).render(request, "start.html", title="Housing repairs")
