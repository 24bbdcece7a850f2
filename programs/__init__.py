"""The loyalty programs shipped with the bot, as package data (`importlib.resources`).

`default.toml` explains every key and seeds an empty database unless `PROGRAM_FILE` names
another program; `case-a.toml` and `cosmocode.toml` reproduce the two case studies. They
install with the wheel, so an installed `loyalty-bot` finds them wherever it runs.

`PROGRAM_FILE`, `--program` and `program set` take a file, or the name of a shipped program
(`case-a`, `case-a.toml` or `programs/case-a.toml`) when no such file exists: the README's
examples work from a checkout and from an installed wheel alike.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

DEFAULT = "default.toml"
_extracted = contextlib.ExitStack()  # shipped files copied out of a zip import, removed at exit
atexit.register(_extracted.close)


def _shipped(name: str) -> Traversable | None:
    if not name.endswith(".toml"):
        name += ".toml"
    resource = files(__name__).joinpath(name)
    return resource if resource.is_file() else None


def names() -> list[str]:
    """The shipped programs' file names, sorted: ["case-a.toml", "cosmocode.toml", "default.toml"]."""
    return sorted(r.name for r in files(__name__).iterdir() if r.name.endswith(".toml") and r.is_file())


def shipped_path(name: str) -> Path:
    """A shipped program as a file on disk (KeyError for an unknown name)."""
    resource = _shipped(name)
    if resource is None:
        raise KeyError(name)
    if isinstance(resource, Path):  # an ordinary install or a checkout
        return resource
    return Path(_extracted.enter_context(as_file(resource)))  # zip import: a temporary copy


def default_path() -> Path:
    return shipped_path(DEFAULT)


def shipped_paths() -> list[Path]:
    return [shipped_path(n) for n in names()]


def resolve(value: str | Path) -> Path:
    """`value` itself when it is a file; else the shipped program it names ("case-a",
    "case-a.toml", "programs/case-a.toml"); else `value` unchanged, so the caller's
    "no such file" names what was asked for."""
    path = Path(value)
    if path.is_file():
        return path
    parts = path.parts
    if not path.is_absolute() and (len(parts) == 1 or (len(parts) == 2 and parts[0] == "programs")):
        resource = _shipped(parts[-1])
        if resource is not None:
            return shipped_path(parts[-1])
    return path


__all__ = ["DEFAULT", "default_path", "names", "resolve", "shipped_path", "shipped_paths"]
