"""What comes back from UHWeb, judged before zeep reads it.

zeep reads any non-200 answer that parses as XML as a SOAP Fault, so a proxy's HTML
error page would look like UH refusing the request; and given an answer of another
operation it quietly reads nothing. ``CheckedTransport`` and ``AnswerCheck`` make both
judgements, raising ``HttpFailure`` and ``MalformedAnswer`` for the client to translate.
"""

from __future__ import annotations

from typing import Any

import httpx
import zeep
from lxml import etree  # type: ignore[import-untyped, unused-ignore]  # no stubs
from zeep.transports import AsyncTransport

from .protocol import NAMESPACE, SOAP11_ENVELOPE_NS

_ENVELOPE = f"{{{SOAP11_ENVELOPE_NS}}}Envelope"
_BODY = f"{{{SOAP11_ENVELOPE_NS}}}Body"
_FAULT = f"{{{SOAP11_ENVELOPE_NS}}}Fault"
_RETRYABLE = {408, 429}
_SHOWN = 300  # characters of an error page kept for the logs


class HttpFailure(Exception):  # noqa: N818 - named after what it carries
    """A non-200 answer that is not a SOAP Fault sent with HTTP 500."""

    def __init__(self, status_code: int, text: str) -> None:
        super().__init__(f"HTTP {status_code}: {text}")
        self.status_code = status_code

    @property
    def unavailable(self) -> bool:
        """Whether the way to UH is down or busy (5xx, 429, 408): trying later may work."""
        return self.status_code >= 500 or self.status_code in _RETRYABLE


class MalformedAnswer(Exception):  # noqa: N818 - named after what it reports
    """An answer that is not the operation's response."""


def parser() -> etree.XMLParser:
    """A parser for untrusted XML: no entities, no network, no DTD loading."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def is_soap_fault(content: bytes) -> bool:
    """Whether ``content`` is a SOAP 1.1 envelope holding a Fault."""
    try:
        root = etree.fromstring(content, parser())
    except etree.XMLSyntaxError:
        return False
    return root.tag == _ENVELOPE and root.find(f"{_BODY}/{_FAULT}") is not None


class CheckedTransport(AsyncTransport):  # type: ignore[misc, unused-ignore]
    """zeep's httpx transport letting through only HTTP 200 and SOAP Faults with 500 (as
    WCF's basicHttpBinding sends them); any other status raises ``HttpFailure``."""

    def __init__(self, client: httpx.AsyncClient, wsdl_client: httpx.Client) -> None:
        super().__init__(client=client, wsdl_client=wsdl_client)  # type: ignore[no-untyped-call, unused-ignore]

    async def post(self, address: str, message: Any, headers: Any) -> httpx.Response:
        """POST the envelope; ``HttpFailure`` unless UH itself answered."""
        response: httpx.Response = await super().post(  # type: ignore[no-untyped-call, unused-ignore]
            address, message, headers
        )
        status = response.status_code
        if status != 200 and not (status == 500 and is_soap_fault(response.content)):
            raise HttpFailure(status, " ".join(response.text.split())[:_SHOWN])
        return response


class AnswerCheck(zeep.Plugin):  # type: ignore[misc, unused-ignore]
    """A zeep plugin raising ``MalformedAnswer`` unless the Body holds a Fault or exactly
    the operation's ``<Operation>Response``."""

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        """Check the answer to ``operation`` before zeep reads it."""
        check_answer(envelope, str(operation.name))
        return envelope, http_headers


def check_answer(envelope: etree._Element, operation: str) -> None:
    """``MalformedAnswer`` unless ``envelope`` is a SOAP 1.1 envelope whose one Body holds
    a Fault or exactly ``<operation>Response`` in UHWeb's namespace."""
    if envelope.tag != _ENVELOPE:
        raise MalformedAnswer(f"not a SOAP 1.1 envelope but {envelope.tag!r}")
    bodies = envelope.findall(_BODY)
    if len(bodies) != 1:
        raise MalformedAnswer(f"{len(bodies)} SOAP Bodies")
    parts = [part for part in bodies[0] if isinstance(part.tag, str)]
    if any(part.tag == _FAULT for part in parts):
        return
    expected = f"{{{NAMESPACE}}}{operation}Response"
    if [part.tag for part in parts] != [expected]:
        found = ", ".join(str(part.tag) for part in parts) or "nothing"
        raise MalformedAnswer(f"the SOAP Body holds {found} instead of {operation}Response")
