"""speedrun: production-ready machine learning on Spark, fast."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("speedrun")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
