"""nce.featurize: stateless descriptors of a glass (element properties, glass chemistry,
physics terms, processing) and atomic-fraction tables.

The composition parser lives in :mod:`nce.data.composition` (reading data files needs it)
and is re-exported here as the public ``nce.featurize.parse_composition``.
"""

from nce.data.composition import (
    Composition,
    CompositionError,
    format_components,
    parse_composition,
    parse_many,
)

__all__ = ["Composition", "CompositionError", "format_components", "parse_composition", "parse_many"]
