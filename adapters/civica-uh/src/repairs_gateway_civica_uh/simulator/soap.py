"""SOAP 1.1 envelopes as WCF's basicHttpBinding reads and writes them for UHWeb.

Requests are checked as strictly as WCF does: the SOAPAction must name the operation in
the Body, and the Body must be valid against the service's schema, or the answer is a
``s:Client`` Fault with HTTP 500. Answers are written from the shipped WSDL's types, in
their order, so a client built from UH's own WSDL reads them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]  # no stubs

from ..protocol import (
    NAMESPACE,
    OPERATIONS,
    SOAP11_ENVELOPE_NS,
    WSDL_PATHS,
    XSI_NS,
    Service,
    soap_action,
)

_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
_ENVELOPE = f"{{{SOAP11_ENVELOPE_NS}}}Envelope"
_BODY = f"{{{SOAP11_ENVELOPE_NS}}}Body"
_SOAP12_ENVELOPE_NS = "http://www.w3.org/2003/05/soap-envelope"


class SoapFault(Exception):  # noqa: N818 - named after what it becomes on the wire
    """A request WCF cannot even read: answered as a SOAP Fault with HTTP 500."""

    def __init__(self, message: str, code: str = "Client") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Field:
    """One element of a complex type: its name, its type's local name, whether it repeats."""

    name: str
    type: str
    many: bool


def _parser() -> etree.XMLParser:
    # Requests are untrusted: no entities, no network, no DTD loading.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@cache
def _schema_node(service: Service) -> etree._Element:
    wsdl = etree.fromstring(WSDL_PATHS[service].read_bytes(), _parser())
    found = wsdl.find(f".//{{{_XS}}}schema")
    if found is None:  # pragma: no cover - the shipped files have one
        raise RuntimeError(f"the shipped {service} WSDL has no schema")
    return found


@cache
def request_schema(service: Service) -> etree.XMLSchema:
    """The service's XML Schema, compiled once."""
    return etree.XMLSchema(etree.ElementTree(copy.deepcopy(_schema_node(service))))


@cache
def type_fields(service: Service) -> dict[str, tuple[Field, ...]]:
    """Each complex type's elements in wire order, its base type's first."""
    schema = _schema_node(service)
    own: dict[str, tuple[str | None, list[Field]]] = {}
    for node in schema.findall(f"{{{_XS}}}complexType"):
        extension = node.find(f"{{{_XS}}}complexContent/{{{_XS}}}extension")
        base = extension.get("base").split(":")[-1] if extension is not None else None
        fields = [
            Field(
                name=e.get("name"),
                type=e.get("type").split(":")[-1],
                many=e.get("maxOccurs") == "unbounded",
            )
            for e in node.iter(f"{{{_XS}}}element")
        ]
        own[node.get("name")] = (base, fields)

    def flatten(name: str) -> tuple[Field, ...]:
        base, fields = own[name]
        return (*(flatten(base) if base else ()), *fields)

    return {name: flatten(name) for name in own}


@cache
def result_type(service: Service, operation: str) -> str:
    """The type of ``<Operation>Result``."""
    schema = _schema_node(service)
    for node in schema.findall(f"{{{_XS}}}element"):
        if node.get("name") == f"{operation}Response":
            inner = node.find(f".//{{{_XS}}}element")
            return str(inner.get("type")).split(":")[-1]
    raise KeyError(operation)  # pragma: no cover - every operation has a response


def wsdl_for(service: Service, address: str) -> bytes:
    """The service's WSDL with its address set to ``address``."""
    wsdl = etree.fromstring(WSDL_PATHS[service].read_bytes(), _parser())
    for node in wsdl.iter(f"{{{_WSDL_SOAP}}}address"):
        node.set("location", address)
    return bytes(etree.tostring(wsdl, xml_declaration=True, encoding="UTF-8"))


def parse_request(
    service: Service, body: bytes, action_header: str | None
) -> tuple[str, dict[str, Any]]:
    """The operation a request calls and its ``dto`` as plain values; ``SoapFault`` when
    WCF would refuse to read it."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise SoapFault(f"The message could not be read: {exc}") from None
    if root.tag == f"{{{_SOAP12_ENVELOPE_NS}}}Envelope":
        raise SoapFault("This service accepts SOAP 1.1 messages only.", code="VersionMismatch")
    if root.tag != _ENVELOPE:
        raise SoapFault(f"Expected a SOAP envelope, found {root.tag}.")
    bodies = root.findall(_BODY)
    if len(bodies) != 1:
        raise SoapFault("A SOAP envelope must have exactly one Body.")
    parts = [child for child in bodies[0] if isinstance(child.tag, str)]
    if len(parts) != 1:
        raise SoapFault("The SOAP Body must hold exactly one operation element.")
    wrapper = parts[0]
    qname = etree.QName(wrapper)
    action = (action_header or "").strip().strip('"')
    operation = qname.localname
    if qname.namespace != NAMESPACE or operation not in OPERATIONS[service]:
        raise SoapFault(
            f"The message with Action '{action}' cannot be processed at the receiver "
            "(ActionNotSupported)."
        )
    if action != soap_action(service, operation):
        raise SoapFault(
            f"The message with Action '{action}' cannot be processed at the receiver "
            "(ActionNotSupported)."
        )
    schema = request_schema(service)
    if not schema.validate(etree.ElementTree(copy.deepcopy(wrapper))):
        error = schema.error_log.last_error
        raise SoapFault(
            "The formatter threw an exception while trying to deserialize the message: "
            f"{error.message if error else 'invalid'}"
        )
    dto = wrapper.find(f"{{{NAMESPACE}}}dto")
    if dto is None or dto.get(f"{{{XSI_NS}}}nil") == "true":
        raise SoapFault(f"{operation}: the dto parameter is required.")
    values = read(dto)
    return operation, values if isinstance(values, dict) else {}


def read(node: etree._Element) -> Any:
    """An element as plain values: a dict of its children (repeated ones as a list), its
    text, or None when it is nil."""
    if node.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    children = [child for child in node if isinstance(child.tag, str)]
    if not children:
        return node.text or ""
    values: dict[str, Any] = {}
    for child in children:
        name = etree.QName(child).localname
        value = read(child)
        if name in values:
            held = values[name]
            values[name] = [*held, value] if isinstance(held, list) else [held, value]
        else:
            values[name] = value
    return values


def as_list(value: Any) -> list[Any]:
    """A repeated element read by ``read``: none, one or many."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def response_envelope(service: Service, operation: str, values: Mapping[str, Any]) -> bytes:
    """``<OperationResponse><OperationResult>values</OperationResult></...>``."""
    envelope = etree.Element(_ENVELOPE, nsmap={"s": SOAP11_ENVELOPE_NS})
    body = etree.SubElement(envelope, _BODY)
    wrapper = etree.SubElement(body, f"{{{NAMESPACE}}}{operation}Response", nsmap={None: NAMESPACE})
    result = etree.SubElement(wrapper, f"{{{NAMESPACE}}}{operation}Result")
    write(service, result, result_type(service, operation), values)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def write(
    service: Service, parent: etree._Element, type_name: str, values: Mapping[str, Any]
) -> None:
    """Append ``values`` under ``parent`` as the elements of ``type_name``, in its order;
    absent and None values are left out."""
    types = type_fields(service)
    for field in types[type_name]:
        value = values.get(field.name)
        if value is None:
            continue
        for item in value if field.many else [value]:
            node = etree.SubElement(parent, f"{{{NAMESPACE}}}{field.name}")
            if field.type in types:
                write(service, node, field.type, item)
            else:
                node.text = _text(item)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        # WCF writes DateTimeKind.Unspecified times without an offset: UH's local time.
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def fault_envelope(fault: SoapFault) -> bytes:
    """A SOAP 1.1 Fault as WCF writes it."""
    envelope = etree.Element(_ENVELOPE, nsmap={"s": SOAP11_ENVELOPE_NS})
    body = etree.SubElement(envelope, _BODY)
    node = etree.SubElement(body, f"{{{SOAP11_ENVELOPE_NS}}}Fault")
    etree.SubElement(node, "faultcode").text = f"s:{fault.code}"
    etree.SubElement(node, "faultstring").text = fault.message
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))
