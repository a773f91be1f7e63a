"""Exceptions raised by genlens for bad input.

Every error a user can cause derives from :class:`GenlensError`; its message names the problem
in one line so front ends can show it verbatim.
"""


class GenlensError(Exception):
    """Base class of every user-facing genlens error."""


class ImageError(GenlensError):
    """An image could not be used: unsupported format, corrupt data or too large."""


class ModelLoadError(GenlensError):
    """A classifier or weights file could not be loaded (unknown name, unsafe or bad file)."""


class DatasetError(GenlensError):
    """A dataset is missing or malformed."""


class ParameterError(GenlensError, ValueError):
    """A parameter is out of range or inconsistent with the inputs."""
