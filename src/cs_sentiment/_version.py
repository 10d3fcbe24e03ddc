"""The library's version: a leaf every module may import (the package ``__init__`` re-exports it)."""

__version__ = "0.1.0"
