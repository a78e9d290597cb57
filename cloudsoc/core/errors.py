"""The one exception tree of cloudsoc."""


class CloudSOCError(Exception):
    """Base of every error cloudsoc raises on purpose."""


class ConfigError(CloudSOCError):
    """Configuration that cannot be used."""


class InputError(CloudSOCError):
    """Input data that cannot be read; carries where the problem is."""

    def __init__(self, reason: str, *, offset: int | None = None, record: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        self.record = record
        where = "" if offset is None else f" at byte {offset}"
        where += "" if record is None else f" in record {record}"
        super().__init__(f"{reason}{where}")


class RuleError(CloudSOCError):
    """A detection rule that cannot be loaded or compiled."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {reason}")
