"""JSON Schemas of the GeoReport v2 answers, written from the spec (not from the code under test)."""

from __future__ import annotations

STRING = {"type": "string"}
TEXT_OR_NULL = {"type": ["string", "null"]}
CASE_NUMBER = {"type": "string", "pattern": "^[0-9]{8}$"}
DATETIME = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$"}


def record(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    """An object with exactly these keys (the optional ones may be missing), and no others."""
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": [key for key in properties if key not in optional]}


def listing(item: dict) -> dict:
    return {"type": "array", "items": item}


SERVICE = record({
    "service_code": STRING, "service_name": STRING, "description": STRING, "metadata": {"type": "boolean"},
    "type": {"enum": ["realtime", "batch", "blackbox"]}, "keywords": STRING, "group": STRING,
})
ATTRIBUTE = record({
    "variable": {"type": "boolean"}, "code": STRING,
    "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
    "required": {"type": "boolean"}, "datatype_description": TEXT_OR_NULL, "order": {"type": "integer", "minimum": 1},
    "description": STRING, "values": listing(record({"key": STRING, "name": STRING})),
})
EXTENDED = record({
    "detailed_status": {"enum": ["open", "in_progress", "on_hold", "closed"]}, "detailed_status_name": STRING,
    "department_code": STRING, "department": STRING, "expected_datetime": {"anyOf": [DATETIME, {"type": "null"}]},
    "channel": {"enum": ["phone", "web", "open311"]},
    "attributes": listing(record({"code": STRING, "values": listing(STRING)})),
})
REQUEST = record({
    "service_request_id": CASE_NUMBER, "status": {"enum": ["open", "closed"]}, "status_notes": STRING,
    "service_name": STRING, "service_code": STRING, "description": STRING, "agency_responsible": STRING,
    "service_notice": STRING, "requested_datetime": DATETIME, "updated_datetime": DATETIME,
    "expected_datetime": {"anyOf": [DATETIME, {"type": "null"}]}, "address": TEXT_OR_NULL,
    "address_id": TEXT_OR_NULL, "zipcode": TEXT_OR_NULL, "lat": {"type": ["number", "null"]},
    "long": {"type": ["number", "null"]}, "media_url": TEXT_OR_NULL, "extended_attributes": EXTENDED,
}, optional=("extended_attributes",))

SCHEMAS = {
    "services": listing(SERVICE),
    "definition": record({"service_code": STRING, "attributes": listing(ATTRIBUTE)}),
    "requests": listing(REQUEST),
    "created": {**listing(record({"service_request_id": CASE_NUMBER, "service_notice": STRING,
                                  "account_id": TEXT_OR_NULL})), "minItems": 1, "maxItems": 1},
    "errors": {**listing(record({"code": {"type": "integer"}, "description": STRING})), "minItems": 1},
    "discovery": record({
        "changeset": STRING, "contact": STRING, "key_service": STRING,
        "endpoints": {**listing(record({
            "specification": {"const": "http://wiki.open311.org/GeoReport_v2"}, "url": STRING, "changeset": STRING,
            "type": {"enum": ["production", "test"]},
            "formats": listing({"enum": ["text/xml", "application/json"]}),
        })), "minItems": 1},
    }),
}
