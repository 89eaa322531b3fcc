"""The methodology's one exception tree, grouped by how callers handle each error.

    MethodologyError
    ├── InvalidInput(field, reason)      bad input: reject it or dead-letter it
    │   ├── UnknownMetric                the metric ID is not in the catalogue
    │   └── UnknownTrust                 the trust code is not registered
    └── UnknownMethodology               configuration: fail at start
"""

from __future__ import annotations


class MethodologyError(Exception):
    """Base class of every error raised by shared.methodology."""


class InvalidInput(MethodologyError, ValueError):
    """An input was rejected; ``field`` names the offending field, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self):  # keep pickling (multiprocessing, task queues) working
        return (type(self), (self.field, self.reason))


class UnknownMetric(InvalidInput):
    """The metric ID is not in the methodology version's catalogue."""

    def __init__(self, metric_id: str, field: str = "metric_id") -> None:
        super().__init__(field, f"unknown metric {metric_id!r}")
        self.metric_id = metric_id

    def __reduce__(self):
        return (type(self), (self.metric_id, self.field))


class UnknownTrust(InvalidInput):
    """The trust code is not known to the engine or register."""

    def __init__(self, trust_code: str, field: str = "trust_code") -> None:
        super().__init__(field, f"unknown trust {trust_code!r}")
        self.trust_code = trust_code

    def __reduce__(self):
        return (type(self), (self.trust_code, self.field))


class UnknownMethodology(MethodologyError, LookupError):
    """No methodology version has this name."""

    def __init__(self, version: str, known: tuple[str, ...] = ()) -> None:
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown methodology version {version!r}{hint}")
        self.version = version
        self.known = known

    def __reduce__(self):
        return (type(self), (self.version, self.known))
