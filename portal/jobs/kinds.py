"""Which function runs each kind of job: an explicit list (no discovery), resolved when a
job runs, so the queue itself imports no capability. A handler takes a ``JobContext``
(portal.jobs.service) and does its work in the app context's session, committing it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

REGISTRY: dict[str, str] = {
    "export": "portal.review.export:run_job",  # a large export for Pusdatin
}


class UnknownKind(LookupError):
    """A job whose kind no handler is registered for."""


def handler_for(kind: str) -> Callable[[Any], None]:
    try:
        module_name, _sep, name = REGISTRY[kind].partition(":")
    except KeyError:
        raise UnknownKind(kind) from None
    handler: Callable[[Any], None] = getattr(importlib.import_module(module_name), name)
    return handler
