"""Service Discovery (/open311/discovery.{xml,json}) and the OpenAPI description (/open311/v2/openapi.json)."""

from __future__ import annotations

import json

import jsonschema

from tests.open311.support import api_for


def test_discovery_lists_the_endpoint_with_its_formats_changeset_contact_and_key_service(app):
    api = api_for(app)

    found = api.both("/open311/discovery", "discovery").value

    settings = app.extensions["ivr"].settings.open311
    assert found["changeset"] == settings.changeset == "2026-11-28 00:00"
    assert found["contact"] == settings.contact and "311" in found["contact"]
    assert "api_key" in found["key_service"]
    [endpoint] = found["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2", "url": "http://localhost/open311/v2",
                        "changeset": settings.changeset, "type": "production",
                        "formats": ["text/xml", "application/json"]}


def test_discovery_names_the_public_url_behind_a_proxy(make_app):
    app = make_app({"web": {"public_base_url": "https://311.hartford.gov"}})

    found = api_for(app).get("/open311/discovery", "xml", "discovery").value

    assert found["endpoints"][0]["url"] == "https://311.hartford.gov/open311/v2"


def test_discovery_xml_has_the_declaration_and_the_spec_element_names(app):
    response = app.test_client().get("/open311/discovery.xml")

    text = response.get_data(as_text=True)
    assert response.content_type == "text/xml; charset=utf-8"
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<discovery><changeset>')
    assert "<endpoints><endpoint><specification>" in text
    assert "<formats><format>text/xml</format><format>application/json</format></formats>" in text


def test_a_test_endpoint_says_so(make_app):
    app = make_app({"open311": {"endpoint_type": "test"}})

    assert api_for(app).get("/open311/discovery", "json", "discovery").value["endpoints"][0]["type"] == "test"


def test_the_openapi_description_is_served_and_covers_every_endpoint(app):
    response = app.test_client().get("/open311/v2/openapi.json")

    assert response.status_code == 200 and response.content_type == "application/json; charset=utf-8"
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/discovery.{format}", "/v2/services.{format}", "/v2/services/{service_code}.{format}",
        "/v2/requests.{format}", "/v2/requests/{service_request_id}.{format}", "/v2/openapi.json",
    }
    assert set(document["paths"]["/v2/requests.{format}"]) == {"get", "post"}
    # Every component schema is itself a valid JSON Schema (OpenAPI 3.1 schemas are draft 2020-12).
    for name, schema in document["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema), name
    # No link out of the repository's own description beyond the spec's token, which is data.
    text = response.get_data(as_text=True)
    assert text.count("http://") == text.count("http://wiki.open311.org/GeoReport_v2")
