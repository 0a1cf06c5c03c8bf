"""The two output formats: XML (the spec's element names, with the declaration) and JSON (its Spark mapping)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, tzinfo

from flask import Response

FORMATS = ("xml", "json")
MIMETYPES = {"xml": "text/xml", "json": "application/json"}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# The element each member of a list is written as, by the list's own element (Spark convention).
ITEM_TAGS = {
    "services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
    "errors": "error", "endpoints": "endpoint", "formats": "format",
}


def timestamp(moment: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 in the city's time with its offset, whole seconds: 2026-12-01T10:00:00-05:00."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


def _text(value) -> str:
    """A scalar as XML text: true/false in lower case, nothing for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value) -> None:
    """Write a value into an element: tables as children, lists as repeated item elements."""
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS[element.tag]
        for child in value:
            _fill(ET.SubElement(element, item_tag), child)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> str:
    """The document as XML text, declaration first."""
    element = ET.Element(root)
    _fill(element, value)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode")


def respond(fmt: str, root: str, value, status: int = 200) -> Response:
    """A response in the requested format; `root` names the XML root (JSON is the value itself)."""
    body = json.dumps(value, ensure_ascii=False) if fmt == "json" else to_xml(root, value)
    return Response(body, status=status, content_type=f"{MIMETYPES[fmt]}; charset=utf-8")


def errors(fmt: str, status: int, problems: list[tuple[int, str]]) -> Response:
    """The spec's error list: [{code, description}] / <errors><error>…</error></errors>."""
    return respond(fmt, "errors", [{"code": code, "description": text} for code, text in problems], status)


def format_of(path: str) -> str:
    """The format a path asks for by its suffix; XML (the spec's required one) when it names none we know."""
    return "json" if path.endswith(".json") else "xml"
