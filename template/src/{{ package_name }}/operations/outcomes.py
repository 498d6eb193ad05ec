"""How an operations command ends when it does not succeed: the exit status says which way."""


class VerificationError(Exception):
    """The command ran and found something wrong (a named mismatch): exit status 1."""


class CannotRunError(Exception):
    """The command could not do its job (no server, no program, unreadable input): exit 2."""
