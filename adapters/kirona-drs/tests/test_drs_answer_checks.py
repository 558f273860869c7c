"""What the adaptor makes of answers that are not DRS answering normally: error pages on
the way to DRS, and answers that do not fit the WSDL."""

from __future__ import annotations

import httpx
import pytest
from repairs_gateway.ports import (
    AdapterContext,
    AdapterError,
    BackendRejected,
    BackendUnavailable,
    SlotQuery,
)

from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.protocol import NAMESPACE, SOAP11_ENVELOPE_NS

HTML = "text/html"
XML = "text/xml; charset=UTF-8"


def envelope(body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP11_ENVELOPE_NS}">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )


def response(operation: str, fields: str) -> str:
    return envelope(
        f'<ns1:{operation}Response xmlns:ns1="{NAMESPACE}"><return>{fields}</return>'
        f"</ns1:{operation}Response>"
    )


SESSION = response("openSession", "<id>0</id><status>success</status><sessionId>0a1b</sessionId>")


def day(when: str) -> str:
    return (
        f"<theSlots><day>{when}</day><nonWorkingDay>false</nonWorkingDay>"
        "<weeklyDayOff>false</weeklyDayOff></theSlots>"
    )


async def slots_answered(
    settings: DrsSettings, week: SlotQuery, status: int, body: str, content_type: str
) -> AdapterError:
    """The error ``slots`` raises when DRS opens a session and then every other call is
    answered ``body`` with HTTP ``status``."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("soapaction", "").endswith('openSession"'):
            return httpx.Response(200, content=SESSION, headers={"Content-Type": XML})
        return httpx.Response(status, content=body, headers={"Content-Type": content_type})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        adaptor = DrsScheduler(settings, AdapterContext("nf"), http_client=http)
        with pytest.raises(AdapterError) as caught:
            await adaptor.slots(week)
        await adaptor.aclose()
    return caught.value


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        pytest.param(503, "<html><body>503 Service Unavailable</body></html>", HTML, id="503-page"),
        pytest.param(504, "<html><body>Gateway Time-out</body></html>", HTML, id="504-page"),
        pytest.param(502, "", "text/plain", id="502-empty"),
        pytest.param(500, "<html><body>Internal Server Error</body></html>", HTML, id="500-page"),
        pytest.param(429, "Too many requests", "text/plain", id="429"),
    ],
)
async def test_an_error_page_on_the_way_to_drs_is_unavailable(
    settings: DrsSettings, week: SlotQuery, status: int, body: str, content_type: str
) -> None:
    error = await slots_answered(settings, week, status, body, content_type)
    assert isinstance(error, BackendUnavailable), repr(error)
    assert f"HTTP {status}" in (error.detail or "")


async def test_a_page_refusing_the_request_is_rejected(
    settings: DrsSettings, week: SlotQuery
) -> None:
    page = "<html><body>404 Not Found</body></html>"
    error = await slots_answered(settings, week, 404, page, HTML)
    assert isinstance(error, BackendRejected), repr(error)
    assert "HTTP 404" in (error.detail or "")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        pytest.param(envelope(""), "instead of checkAvailabilityResponse", id="empty-body"),
        pytest.param(SESSION, "openSessionResponse instead of", id="another-operation"),
        pytest.param(
            response("checkAvailability", f"<id>0</id><status>success</status>{day('Tuesday')}"),
            "'Tuesday' is not a valid value of the atomic type 'xs:dateTime'",
            id="date-not-a-date",
        ),
        pytest.param(
            response("checkAvailability", "<id>one</id><status>success</status>"),
            "'one' is not a valid value of the atomic type 'xs:int'",
            id="number-not-a-number",
        ),
    ],
)
async def test_an_answer_that_does_not_fit_the_wsdl_is_rejected(
    settings: DrsSettings, week: SlotQuery, body: str, said: str
) -> None:
    error = await slots_answered(settings, week, 200, body, XML)
    assert isinstance(error, BackendRejected), repr(error)
    assert said in (error.detail or "")
