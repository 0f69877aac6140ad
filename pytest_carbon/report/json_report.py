"""The JSON report on disk: written atomically, read back with a clear error when damaged.

The document itself is made by :meth:`pytest_carbon.results.RunResult.to_json`; every output
renders from it, so the terminal table at the end of a run and ``pytest-carbon show`` agree.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .. import __version__
from ..results import SCHEMA

__all__ = ["SCHEMA", "ReportError", "load", "write_atomic"]


class ReportError(ValueError):
    """A report file that cannot be used; the message names the file and what is wrong."""


def write_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Write JSON so that readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load(path: str | Path) -> dict[str, Any]:
    """Read a report; any problem is a :class:`ReportError` naming the file and the fix."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{p}: no such file; write one with pytest --carbon --carbon-json {p}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ReportError(f"{p}: cannot be read ({e})") from None
    try:
        doc = json.loads(text, parse_constant=_NonFinite)
    except json.JSONDecodeError as e:
        raise ReportError(f"{p}: not valid JSON ({e.msg} at line {e.lineno}); truncated or not a report?") from None
    where = _find_non_finite(doc, "")
    if where is not None:
        field, value = where
        raise ReportError(f"{p}: field {field} is {value}, which no measurement can be; the file is damaged")
    if not isinstance(doc, dict) or "schema" not in doc:
        raise ReportError(f"{p}: not a pytest-carbon report (no 'schema' field)")
    if doc["schema"] != SCHEMA:
        raise ReportError(
            f"{p}: schema {doc['schema']!r} is not {SCHEMA!r}; this pytest-carbon ({__version__})"
            " reads only that version"
        )
    for key, typ in (("run", dict), ("tests", list), ("totals", dict)):
        if not isinstance(doc.get(key), typ):
            raise ReportError(f"{p}: field {key!r} is missing or not a {typ.__name__}; the file is damaged")
    for i, t in enumerate(doc["tests"]):
        if not (isinstance(t, dict) and isinstance(t.get("nodeid"), str) and isinstance(t.get("energy_j"), dict)):
            raise ReportError(
                f"{p}: tests[{i}] is not a test entry (an object with a 'nodeid' string and an 'energy_j'"
                " object); the file is damaged"
            )
    return doc


class _NonFinite(str):
    """NaN, Infinity or -Infinity as read by the JSON parser, kept as its spelling."""


def _find_non_finite(node: Any, path: str) -> tuple[str, str] | None:
    """The first field (as a path such as ``tests[3].energy_j.total``) holding a non-finite number."""
    if isinstance(node, _NonFinite):
        return path or "(the document)", str(node)
    if isinstance(node, dict):
        items: Any = ((f"{path}.{k}" if path else str(k), v) for k, v in node.items())
    elif isinstance(node, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(node))
    else:
        return None
    for sub, v in items:
        found = _find_non_finite(v, sub)
        if found is not None:
            return found
    return None
