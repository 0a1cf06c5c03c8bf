"""dev.py, the two set-up commands: the banner of `serve` names the address the server really binds."""

import importlib.util

from ivr.settings import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("dev", PROJECT_ROOT / "dev.py")
dev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dev)


def test_serve_address_follows_the_options_passed_to_ivr_serve():
    assert dev.serve_address([]) == ("127.0.0.1", "5000")
    assert dev.serve_address(["--port", "8080"]) == ("127.0.0.1", "8080")
    assert dev.serve_address(["--port=9000", "--host", "0.0.0.0"]) == ("0.0.0.0", "9000")
