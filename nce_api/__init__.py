"""NCE: ionic conductivity of non-crystalline solid electrolytes.

The package root holds only the version and the public API; the work lives in
``nce.data`` -> ``nce.featurize`` -> ``nce.models`` -> ``nce.pipelines``.
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("nce")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
