"""SOAP 1.1 envelopes as DRS's Web Services Gateway reads and writes them.

The checks follow BEHAVIOUR.md where it speaks; where it is silent they are strict: a
request must match the SOAPAction of its operation and be valid against the schema of
the WSDL (the gateway answers an ``Unmarshalling Error`` fault otherwise).
"""

from __future__ import annotations

import copy
from datetime import datetime
from functools import cache
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]  # no stubs

from ..protocol import (
    NAMESPACE,
    OPERATIONS,
    SOAP11_ENVELOPE_NS,
    SOAP_ACTION_PREFIX,
    UNMARSHALLING_NAMESPACE,
    WSDL_PATH,
)
from .state import LONDON, DrsError

_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
_ENVELOPE = f"{{{SOAP11_ENVELOPE_NS}}}Envelope"
_BODY = f"{{{SOAP11_ENVELOPE_NS}}}Body"
_SOAP12_ENVELOPE_NS = "http://www.w3.org/2003/05/soap-envelope"


class SoapFault(Exception):  # noqa: N818 - named after what it becomes on the wire
    """A request the gateway cannot even read: answered as a SOAP Fault, HTTP 500."""

    def __init__(self, message: str, code: str = "Client") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _parser() -> etree.XMLParser:
    # Requests are untrusted: no entities, no network, no DTD loading.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@cache
def wsdl_document() -> bytes:
    """The WSDL the package ships, as bytes."""
    return WSDL_PATH.read_bytes()


@cache
def request_schema() -> etree.XMLSchema:
    """The XML Schema of the WSDL's types, compiled once."""
    wsdl = etree.fromstring(wsdl_document(), _parser())
    schema = wsdl.find(f".//{{{_XS}}}schema")
    if schema is None:  # pragma: no cover - the shipped file has one
        raise RuntimeError("the shipped WSDL has no schema")
    return etree.XMLSchema(etree.ElementTree(copy.deepcopy(schema)))


def wsdl_for(address: str) -> bytes:
    """The WSDL with its service address set to ``address``."""
    wsdl = etree.fromstring(wsdl_document(), _parser())
    for node in wsdl.iter(f"{{{_WSDL_SOAP}}}address"):
        node.set("location", address)
    return bytes(etree.tostring(wsdl, xml_declaration=True, encoding="UTF-8"))


def parse_request(body: bytes, soap_action: str | None) -> tuple[str, etree._Element]:
    """The operation a request calls and its inner command element (``<openSession>``
    inside ``<ns:openSession>``); SoapFault when DRS would refuse to read it."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise SoapFault(f"Error reading XMLStreamReader: {exc}") from None
    if root.tag == f"{{{_SOAP12_ENVELOPE_NS}}}Envelope":
        raise SoapFault(
            "A SOAP 1.2 message is not valid when sent to a SOAP 1.1 only endpoint.",
            code="VersionMismatch",
        )
    if root.tag != _ENVELOPE:
        raise SoapFault(f"Message part {root.tag} was not recognized.")
    bodies = root.findall(_BODY)
    if len(bodies) != 1:
        raise SoapFault("A SOAP envelope must have exactly one Body.")
    parts = [child for child in bodies[0] if isinstance(child.tag, str)]
    if len(parts) != 1:
        raise SoapFault("The SOAP Body must hold exactly one operation element.")
    wrapper = parts[0]
    qname = etree.QName(wrapper)
    if qname.namespace is None:
        raise SoapFault(UNMARSHALLING_NAMESPACE)
    if qname.namespace != NAMESPACE or qname.localname not in OPERATIONS:
        raise SoapFault(f"Unexpected wrapper element {wrapper.tag} found.")
    operation = qname.localname
    action = (soap_action or "").strip().strip('"')
    if action != SOAP_ACTION_PREFIX + operation:
        raise SoapFault(f"The given SOAPAction {action} does not match an operation.")
    schema = request_schema()
    if not schema.validate(etree.ElementTree(copy.deepcopy(wrapper))):
        error = schema.error_log.last_error
        raise SoapFault(f"Unmarshalling Error: {error.message if error else 'invalid'}")
    inner = wrapper.find(operation)
    if inner is None:
        # Schema-valid (the inner element is optional), but DRS has nothing to act on.
        raise SoapFault(f"Unmarshalling Error: {operation} has no {operation} element")
    return operation, inner


def response_envelope(operation: str, result: etree._Element) -> bytes:
    """``<ns1:opResponse><return>...</return></ns1:opResponse>`` in an envelope."""
    envelope = etree.Element(_ENVELOPE, nsmap={"soap": SOAP11_ENVELOPE_NS})
    body = etree.SubElement(envelope, _BODY)
    wrapper = etree.SubElement(
        body, f"{{{NAMESPACE}}}{operation}Response", nsmap={"ns1": NAMESPACE}
    )
    result.tag = "return"
    wrapper.append(result)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def fault_envelope(fault: SoapFault) -> bytes:
    """A SOAP 1.1 Fault."""
    envelope = etree.Element(_ENVELOPE, nsmap={"soap": SOAP11_ENVELOPE_NS})
    body = etree.SubElement(envelope, _BODY)
    node = etree.SubElement(body, f"{{{SOAP11_ENVELOPE_NS}}}Fault")
    etree.SubElement(node, "faultcode").text = f"soap:{fault.code}"
    etree.SubElement(node, "faultstring").text = fault.message
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


# ----------------------------------------------------------------------- field helpers


def text(parent: etree._Element, name: str) -> str | None:
    """The text of an unqualified child, or None when it is absent."""
    child = parent.find(name)
    if child is None:
        return None
    return child.text or ""


def texts(parent: etree._Element, name: str) -> list[str]:
    """The texts of every unqualified child called ``name``."""
    return [child.text or "" for child in parent.findall(name)]


def flag(parent: etree._Element, name: str) -> bool:
    """An xs:boolean child (absent means false)."""
    return (text(parent, name) or "false").strip() in ("true", "1")


def add(parent: etree._Element, name: str, value: Any) -> etree._Element:
    """Append ``<name>value</name>``; datetimes in local time with their offset."""
    node = etree.SubElement(parent, name)
    if isinstance(value, bool):
        node.text = "true" if value else "false"
    elif isinstance(value, datetime):
        node.text = local_iso(value)
    elif value is not None:
        node.text = str(value)
    return node


def add_optional(parent: etree._Element, name: str, value: Any) -> None:
    """Append ``<name>`` only when there is a value."""
    if value is not None:
        add(parent, name, value)


def local_iso(value: datetime) -> str:
    """DRS answers local wall-clock times with their offset: +01:00 in summer."""
    return value.astimezone(LONDON).isoformat(timespec="seconds")


def parse_datetime(raw: str | None, name: str) -> datetime:
    """An xs:dateTime; one without an offset is read as local time, as DRS does."""
    if raw is None or not raw.strip():
        raise DrsError(f"{name} is mandatory")
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise DrsError(f"{name} is not a valid date and time: {raw!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=LONDON)
