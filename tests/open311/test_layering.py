"""The Open311 face stands where docs/architecture.md puts faces: over the case service, beside the others."""

from __future__ import annotations

import pytest

from tests.test_layers import PACKAGE, imports_of, module_name, modules_under, top

OTHER_FACES = {"ivr.voice", "ivr.staff", "ivr.cli"}


@pytest.mark.parametrize("path", modules_under("open311"), ids=module_name)
def test_open311_imports_no_other_face(path):
    assert not {top(m) for m in imported_ivr(path)} & OTHER_FACES


def test_the_web_routes_reach_tables_only_through_the_open311_services():
    assert not {m for m in imported_ivr(PACKAGE / "open311" / "routes.py") if top(m) == "ivr.models"}


def test_cases_are_opened_only_through_the_case_service():
    source = (PACKAGE / "open311" / "intake.py").read_text()
    assert "cases.create_case(" in source and "Case(" not in source.replace("NewCase(", "")


def imported_ivr(path) -> set[str]:
    return {m for m in imports_of(path) if m.startswith("ivr.")}
