"""nce.featurize"""
from nce.featurize.composition import (  # noqa: F401
    Composition,
    CompositionError,
    format_components,
    parse_composition,
    parse_many,
)
