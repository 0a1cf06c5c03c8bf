"""Talking to the Open311 API in tests: every answer is checked (JSON against the schemas, XML parsed, the two
formats compared), and every body is kept so a test can scan all of them for a resident's details."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.open311.schemas import SCHEMAS

API = "/open311/v2"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
# Which XML elements hold lists, and the element of each member (the spec's Spark convention).
LISTS = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
         "errors": "error", "endpoints": "endpoint", "formats": "format"}
BOOLEANS = {"metadata", "variable", "required"}
INTEGERS = {("error", "code"), ("attribute", "order")}  # (parent element, element)
NUMBERS = {"lat", "long"}
# ISO 8601 with an offset (or Z) and whole seconds.
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)$")
DATETIME_FIELDS = {"requested_datetime", "updated_datetime", "expected_datetime"}


def xml_value(element: ET.Element, parent: str = ""):
    """An XML answer back as the JSON value the spec maps it to, so the two formats can be compared."""
    tag = element.tag
    if tag in LISTS:
        return [xml_value(child, tag) for child in element]
    if len(element):
        return {child.tag: xml_value(child, tag) for child in element}
    text = element.text
    if text is None:
        # An empty element: null for numbers and times, which cannot be empty; an empty string otherwise.
        typed = tag in BOOLEANS | NUMBERS | DATETIME_FIELDS or (parent, tag) in INTEGERS
        return None if typed else ""
    if tag in BOOLEANS:
        return {"true": True, "false": False}[text]
    if (parent, tag) in INTEGERS:
        return int(text)
    if tag in NUMBERS:
        return float(text)
    return text


def _comparable(value):
    """JSON's empty strings and nulls both become an empty XML element: compare them as equal."""
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return None if value == "" else value


def _datetimes(value) -> list[str]:
    """Every datetime field's value anywhere in a document."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in DATETIME_FIELDS and item is not None:
                found.append(item)
            found += _datetimes(item)
    elif isinstance(value, list):
        for item in value:
            found += _datetimes(item)
    return found


@dataclass
class Answer:
    """One checked answer: status, the value it carries, the raw body."""

    status: int
    value: object
    body: str
    headers: dict


@dataclass
class Api:
    """A test client for /open311 that checks every answer and remembers every body."""

    client: object
    bodies: list[str] = field(default_factory=list)
    openapi: dict | None = None

    def get(self, path: str, fmt: str = "json", kind: str | None = None, **params) -> Answer:
        """GET {path}.{fmt}; kind names the schema of a 2xx answer (errors are always checked as errors)."""
        return self._check(self.client.get(f"{path}.{fmt}", query_string=params), fmt, kind)

    def post(self, path: str, fmt: str = "json", data: dict | None = None) -> Answer:
        """POST form data to {path}.{fmt}."""
        return self._check(self.client.post(f"{path}.{fmt}", data=data or {}), fmt, "created")

    def both(self, path: str, kind: str, **params) -> Answer:
        """GET in both formats; asserts they carry the same value and returns the JSON answer."""
        as_json, as_xml = self.get(path, "json", kind, **params), self.get(path, "xml", kind, **params)
        assert as_json.status == as_xml.status
        assert _comparable(as_xml.value) == _comparable(as_json.value)
        return as_json

    def _check(self, response, fmt: str, kind: str | None) -> Answer:
        body = response.get_data(as_text=True)
        self.bodies.append(body)
        assert response.status_code < 500, body
        if fmt == "json":
            assert response.content_type == "application/json; charset=utf-8"
            value = json.loads(body)
        else:
            assert response.content_type == "text/xml; charset=utf-8"
            assert body.startswith(XML_DECLARATION + "\n")
            value = xml_value(ET.fromstring(body.encode("utf-8")))
        schema_kind = kind if response.status_code < 400 else "errors"
        if schema_kind:
            jsonschema.validate(value, SCHEMAS[schema_kind])
            if self.openapi is not None:
                _validate_openapi(self.openapi, schema_kind, value)
        if response.status_code >= 400:
            assert all(error["code"] == response.status_code for error in value), value
        for moment in _datetimes(value):
            assert DATETIME.match(moment), moment
        return Answer(response.status_code, value, body, dict(response.headers))


OPENAPI_SCHEMAS = {"services": "ServiceList", "definition": "ServiceDefinition", "requests": "ServiceRequestList",
                   "created": "CreatedList", "errors": "Errors", "discovery": "Discovery"}


def _validate_openapi(document: dict, kind: str, value) -> None:
    """The served OpenAPI description must describe the answer too (it is what client generators read)."""
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(document))
    schema = {"$ref": f"urn:openapi#/components/schemas/{OPENAPI_SCHEMAS[kind]}"}
    jsonschema.Draft202012Validator(schema, registry=registry).validate(value)


def api_for(app, with_openapi: bool = True) -> Api:
    """An Api on an app; with the app's own OpenAPI description checked against every answer."""
    api = Api(app.test_client())
    if with_openapi:
        api.openapi = json.loads(app.test_client().get(f"{API}/openapi.json").get_data(as_text=True))
    return api


def issue_key(app, name: str = "test app") -> str:
    """A fresh API key for an app's database."""
    from ivr.open311.keys import issue_key as issue

    with app.extensions["ivr"].db.session() as session:
        return issue(session, name, "tests")


POTHOLE = {"service_code": "pothole", "lat": "41.7637", "long": "-72.6851",
           "description": "deep hole in the right lane"}
