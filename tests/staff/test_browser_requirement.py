"""CI cannot pass with the browser tests silently skipped: a missing chromium fails when CI requires it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_chromium


def test_a_missing_chromium_fails_when_the_browser_is_required(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="is missing"):
        require_chromium(tmp_path / "chromium", {"IVR_REQUIRE_BROWSER": "1"})


def test_a_missing_chromium_skips_on_a_developers_machine(tmp_path):
    with pytest.raises(pytest.skip.Exception):
        require_chromium(tmp_path / "chromium", {})


def test_a_present_chromium_lets_the_tests_run(tmp_path):
    (tmp_path / "chromium").touch()
    require_chromium(Path(tmp_path / "chromium"), {"IVR_REQUIRE_BROWSER": "1"})


def test_ci_requires_the_browser():
    script = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "export IVR_REQUIRE_BROWSER=1" in script and "apt-get install -y -q chromium" in script
