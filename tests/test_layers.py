"""Dependencies point one way (docs/architecture.md): faces -> case service and calls -> models; core is pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ivr.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "ivr"
FRAMEWORKS = {"flask", "twilio", "sqlalchemy", "alembic", "werkzeug", "click"}
FACES = {"ivr.voice", "ivr.cli"}


def module_name(path: Path) -> str:
    """ivr/voice/routes.py -> ivr.voice.routes."""
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def modules_under(folder: str) -> list[Path]:
    """The Python files of one sub-package."""
    return sorted((PACKAGE / folder).glob("*.py"))


def top(module: str) -> str:
    """The face or layer a module belongs to: ivr.voice.routes -> ivr.voice."""
    return ".".join(module.split(".")[:2])


@pytest.mark.parametrize("path", modules_under("core") + [PACKAGE / "settings.py"], ids=module_name)
def test_the_core_and_settings_import_no_framework_and_no_outer_layer(path):
    imported = imports_of(path)
    assert not {m.split(".")[0] for m in imported} & FRAMEWORKS
    outer = {m for m in imported if m.startswith("ivr.") and top(m) not in ("ivr.core", "ivr.settings")}
    assert not outer, f"{module_name(path)} imports {sorted(outer)}"


@pytest.mark.parametrize("path", modules_under("cases"), ids=module_name)
def test_the_case_service_knows_no_face(path):
    imported = imports_of(path)
    assert not {m.split(".")[0] for m in imported} & {"flask", "twilio", "click"}
    assert not {top(m) for m in imported} & FACES


@pytest.mark.parametrize("path", modules_under("voice"), ids=module_name)
def test_the_voice_face_reaches_tables_only_through_the_services(path):
    imported = imports_of(path)
    assert not {m for m in imported if top(m) == "ivr.models"}, "use ivr.calls or ivr.cases instead"
    assert not {top(m) for m in imported} & (FACES - {"ivr.voice"})


def test_the_checker_sees_relative_imports():
    """The tests above would pass vacuously if relative imports were not resolved."""
    assert "ivr.calls" in imports_of(PACKAGE / "voice" / "routes.py")
    assert "ivr.core.engine" in imports_of(PACKAGE / "voice" / "twiml.py")
