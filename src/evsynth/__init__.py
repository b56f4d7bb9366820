"""evsynth: systematic-review evidence synthesis from search exports to meta-analysis."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evsynth")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
