"""The one place where the pages meet the commission app: its selectors for
reads, its services for writes (the same the API calls). Pages never touch
the commission's models or rules directly."""

import importlib


def _mod(name):
    try:
        return importlib.import_module(f"commission.{name}")
    except ImportError:
        return None


def available() -> bool:
    return _mod("services") is not None and _mod("selectors") is not None
