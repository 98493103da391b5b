"""Where the CSMS keeps its data: one folder, the same from any working directory.

`var` relative to the working directory made `csms registry import` run from another folder
create and fill a second, empty database there. The default is now absolute: the source
checkout's `var/` when the package runs from one (so `make run` keeps its data), else the
per-user data directory. A folder given explicitly (`--data-dir`, `CSMS_DATA_DIR`) may be
relative: it is taken from the working directory once, then kept absolute.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def source_checkout(package: Path = PACKAGE) -> Path | None:
    """The checkout `package` runs from (its parent holds our pyproject.toml), or None when it
    is installed (site-packages holds no pyproject.toml)."""
    root = package.parent
    try:
        with (root / "pyproject.toml").open("rb") as file:
            project = tomllib.load(file).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return root if isinstance(project, dict) and project.get("name") == "csms" else None


@functools.cache
def this_checkout() -> Path | None:
    """The checkout this process's `csms` package runs from, if any (looked up once)."""
    return source_checkout(PACKAGE)


def user_data_dir(env: Mapping[str, str]) -> Path:
    """`$XDG_DATA_HOME/csms`, else `~/.local/share/csms` (the XDG base directory default; a
    relative XDG_DATA_HOME is invalid by that spec and ignored)."""
    xdg = env.get("XDG_DATA_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "csms"
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".local" / "share" / "csms"


def default_data_dir(env: Mapping[str, str], checkout: Path | None) -> Path:
    """The data directory when none is given: the checkout's `var/`, else the user's."""
    return checkout / "var" if checkout is not None else user_data_dir(env)


def resolve_data_dir(given: str | None, env: Mapping[str, str], checkout: Path | None) -> Path:
    """An explicit folder made absolute (a relative one is taken from the working directory),
    else the default."""
    if given:
        return Path(given).expanduser().resolve()
    return default_data_dir(env, checkout)
