"""GET services and GET services/{code}: the phone's service types, with attributes where a type asks more."""

from __future__ import annotations

import re
import shutil

import pytest

from ivr.settings import DEFAULT_CONFIG_DIR, ConfigError, load
from tests.open311.support import API, api_for

FORMATS = pytest.mark.parametrize("fmt", ["json", "xml"])


def test_the_service_list_is_every_service_type_in_config_in_both_formats(app):
    listed = api_for(app).both(f"{API}/services", "services").value

    settings = app.extensions["ivr"].settings
    assert [service["service_code"] for service in listed] == [st.code for st in settings.service_types]
    pothole = next(service for service in listed if service["service_code"] == "pothole")
    assert pothole == {
        "service_code": "pothole", "service_name": "pothole",
        "description": settings.service_type("pothole").description_en, "metadata": False, "type": "realtime",
        "keywords": ", ".join([*settings.service_type("pothole").keywords_en,
                               *settings.service_type("pothole").keywords_es]),
        "group": "Public Works",
    }
    assert next(s for s in listed if s["service_code"] == "bulky_waste")["metadata"] is True


def test_the_service_list_in_xml_uses_the_spec_element_names(app):
    text = app.test_client().get(f"{API}/services.xml").get_data(as_text=True)

    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<services><service><service_code>missed_trash'
                           '</service_code><service_name>')
    assert "<metadata>false</metadata><type>realtime</type><keywords>" in text


def test_bulky_waste_asks_how_many_items(app):
    found = api_for(app).both(f"{API}/services/bulky_waste", "definition").value

    assert found["service_code"] == "bulky_waste"
    items, kinds = found["attributes"]
    assert items == {"variable": True, "code": "items", "datatype": "number", "required": True,
                     "datatype_description": "A whole number from 1 to 10 (more than 10 items need a second "
                                             "appointment).",
                     "order": 1, "description": "How many large items should be picked up?", "values": []}
    assert kinds["datatype"] == "multivaluelist" and kinds["required"] is False and kinds["order"] == 2
    assert {"key": "mattress", "name": "Mattress or box spring"} in kinds["values"]


def test_a_type_without_attributes_has_an_empty_definition(app):
    assert api_for(app).both(f"{API}/services/pothole", "definition").value == {"service_code": "pothole",
                                                                                 "attributes": []}


@FORMATS
def test_an_unknown_service_is_404_in_the_format_asked(app, fmt):
    answer = api_for(app).get(f"{API}/services/no_such_thing", fmt, "definition")

    assert answer.status == 404
    assert answer.value == [{"code": 404, "description": "service_code 'no_such_thing' is not a service"}]


@FORMATS
def test_the_jurisdiction_is_optional_and_another_one_is_404(app, fmt):
    api = api_for(app)

    assert api.get(f"{API}/services", fmt, "services", jurisdiction_id="hartford.gov").status == 200
    other = api.get(f"{API}/services", fmt, "services", jurisdiction_id="springfield.gov")
    assert other.status == 404 and "springfield.gov" in other.value[0]["description"]


@FORMATS
def test_unknown_paths_and_methods_answer_in_the_spec_format(app, fmt):
    api = api_for(app)

    assert api.get(f"{API}/tokens/123", fmt).status == 404
    response = app.test_client().delete(f"{API}/services.{fmt}")
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert ("<errors><error><code>405</code>" if fmt == "xml" else '[{"code": 405') in response.get_data(as_text=True)


def test_an_unknown_format_is_404_in_xml(app):
    response = app.test_client().get(f"{API}/services.csv")

    assert response.status_code == 404 and response.content_type == "text/xml; charset=utf-8"


def test_an_inactive_type_is_not_offered(make_app, tmp_path):
    config = shutil.copytree(DEFAULT_CONFIG_DIR, tmp_path / "config")
    text = (config / "service_types.toml").read_text()
    start = text.index('[[service_type]]\ncode = "graffiti"')
    end = text.index("[[service_type]]", start + 1)
    (config / "service_types.toml").write_text(text[:start] + text[end:])
    make_app()  # the database first knows graffiti; then config drops it and sync deactivates it
    app = make_app(CONFIG_DIR=str(config))

    api = api_for(app)
    codes = [service["service_code"] for service in api.get(f"{API}/services", "json", "services").value]
    assert "graffiti" not in codes and "pothole" in codes
    assert api.get(f"{API}/services/graffiti", "json").status == 404


@pytest.mark.parametrize(("attribute", "message"), [
    ({"service_type": "spaceship"}, "config/open311.toml: attributes[0] (items): unknown service type 'spaceship'"),
    ({"values": {"a": "A"}}, "values are for list datatypes"),
    ({"order": 0}, "order must be at least 1"),
])
def test_attribute_config_is_checked_at_start_up(attribute, message):
    base = {"service_type": "bulky_waste", "code": "items", "datatype": "number", "required": True, "order": 1,
            "description": "How many?", "datatype_description": "", "values": {}}
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(environ={}, overrides={"open311": {"attributes": [{**base, **attribute}]}})


def test_two_attributes_with_one_code_are_refused():
    item = {"service_type": "bulky_waste", "code": "items", "datatype": "number", "required": True, "order": 1,
            "description": "How many?", "datatype_description": "", "values": {}}
    with pytest.raises(ConfigError, match="bulky_waste has two attributes with code 'items'"):
        load(environ={}, overrides={"open311": {"attributes": [item, {**item, "order": 2}]}})
