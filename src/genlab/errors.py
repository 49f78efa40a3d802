"""Errors a user can fix from the command line: reported as one line, never as a traceback."""


class GenlabError(Exception):
    """Base of the errors that name a config key or file and say how to fix it."""


class ConfigError(GenlabError):
    """The composed config asks for something impossible or malformed."""


class DataError(GenlabError):
    """A dataset file or folder is missing, empty or not what the config says."""
