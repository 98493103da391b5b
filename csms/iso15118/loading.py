"""Which certificate provider serves Plug & Charge, from `--iso15118-provider`.

- unset or `none`: no provider; stations get Failed / NoCertificateAvailable answers;
- `test`: the built-in test provider (csms.iso15118.fixture_provider.BUILTIN);
- `test:fail`: the test provider told to fail on every call (an unreachable provider);
- `test:<path>`: the test provider with the JSON fixture at <path>;
- `python:<module>:<name>`: an external provider: <name> is a CertificateProvider, or a
  callable without arguments that returns one.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from csms.errors import ConfigError
from csms.iso15118.fixture_provider import FixtureProvider
from csms.iso15118.model import CertificateProvider

METHODS = ("get_15118_ev_certificate", "certificate_status", "authorize_hashes")


def spec_problem(spec: str | None) -> str | None:
    """Why `spec` names no provider form (checked when settings are read), or None."""
    if spec is None or spec in ("", "none", "test") or spec.startswith("test:"):
        return None
    if spec.startswith("python:") and len(spec.split(":")) == 3 and all(spec.split(":")[1:]):
        return None
    return (
        f"--iso15118-provider {spec!r}: expected none, test, test:fail, test:<fixture.json> "
        f"or python:<module>:<name>"
    )


def load_provider(spec: str | None) -> CertificateProvider | None:
    problem = spec_problem(spec)
    if problem is not None:
        raise ConfigError(problem)
    if spec is None or spec in ("", "none"):
        return None
    if spec == "test":
        return FixtureProvider()
    if spec == "test:fail":
        return FixtureProvider(fail=True)
    if spec.startswith("test:"):
        return FixtureProvider.from_file(Path(spec.removeprefix("test:")))
    _, module_name, name = spec.split(":")
    try:
        found = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"--iso15118-provider {spec!r}: {exc}") from None
    is_provider = not isinstance(found, type) and all(hasattr(found, m) for m in METHODS)
    provider = found if is_provider else found()
    if not all(callable(getattr(provider, m, None)) for m in METHODS):
        raise ConfigError(
            f"--iso15118-provider {spec!r} is not a certificate provider (it needs "
            f"{', '.join(METHODS)})"
        )
    result: CertificateProvider = provider
    return result
