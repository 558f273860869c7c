"""What every page of the site shares: the API, the templates and the page renderer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from repairs_gateway.web.api_client import ApiProblem, ApiUnreachable, RepairsApi
from repairs_gateway.web.forms import summary
from repairs_gateway.web.session import csrf_token

# The council's tree changes only with its configuration; the spec allows a short cache.
TRIAGE_CACHE_SECONDS = 60.0


def make_templates() -> Jinja2Templates:
    """The site's templates, beside GOV.UK Frontend's Jinja macros."""
    environment = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("repairs_gateway.web", "templates"),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(["html"]),
    )
    environment.filters["keep_whole"] = keep_whole
    return Jinja2Templates(env=environment)


def keep_whole(text: str, reference: str) -> Markup:
    """``text`` (escaped) with each ``reference`` in it kept on one line: the API's free
    text names the repair's reference, and a browser would break it after its "NF-"."""
    escaped = escape(text)
    if not reference:
        return escaped
    whole = Markup('<span class="app-nowrap">{}</span>').format(reference)
    return Markup(escaped.replace(escape(reference), whole))


@dataclass
class Site:
    """One council's resident site."""

    api: RepairsApi
    council: str
    templates: Jinja2Templates = field(default_factory=make_templates)
    _council_name: str | None = None
    _triage: tuple[float, dict[str, Any]] | None = None

    async def council_name(self) -> str:
        """The council's name from the API, read once."""
        if self._council_name is None:
            try:
                self._council_name = await self.api.council_name()
            except (ApiProblem, ApiUnreachable):
                return self.council  # an error page still renders while the gateway is down
        return self._council_name

    async def triage(self) -> dict[str, Any]:
        """The council's triage tree, cached for a minute."""
        now = time.monotonic()
        if self._triage is None or now - self._triage[0] > TRIAGE_CACHE_SECONDS:
            self._triage = (now, await self.api.triage())
        return self._triage[1]

    async def render(
        self,
        request: Request,
        template: str,
        status: int = 200,
        errors: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        """A page, with the council's name, the CSRF token, the script nonce and any errors
        (field name to message) with their summary."""
        errors = errors or {}
        title = context.pop("title", "")
        if errors:
            title = f"Error: {title}"
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "council_name": await self.council_name(),
                "csrf_token": csrf_token(request),
                "cspNonce": request.state.csp_nonce,
                "errors": errors,
                "error_summary": summary(errors),
                "title": title,
                **context,
            },
            status_code=status,
        )


def site_of(request: Request) -> Site:
    """The site serving this request."""
    site: Site = request.app.state.site
    return site


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET: a 303 to the page to show next."""
    return RedirectResponse(url, status_code=303)


def take_flash(request: Request, key: str = "flash") -> Any:
    """A message left for the next page by the previous one, removed as it is read."""
    return request.session.pop(key, None)


def flash_errors(request: Request) -> dict[str, str]:
    """The errors a redirect left for this page, if any."""
    errors = take_flash(request, "errors")
    return errors if isinstance(errors, dict) else {}
