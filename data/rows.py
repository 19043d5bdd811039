"""The one row validator: processing words, one plausible range per quantity, one message per row.

Every table NCE reads a row from (``nce predict`` inputs and options, ``--extra-data`` and
``--measured`` files, the literature table, the featurizer's processing columns, the
``--state``/``--route``/``--heat-treatment-C`` options of ``nce suggest --space``) checks it
here, so a value is accepted or refused the same way, with the same message, everywhere.

- ``route`` and ``state`` (vocabularies :data:`nce.data.schema.ROUTES`, ``STATES``) are read
  case-insensitively with spaces, hyphens and dashes as underscores: ``Melt-quench``,
  ``MELT_QUENCH`` and `` melt quench `` are ``melt_quench``, ``GLASS`` is ``glass``. A
  missing value (absent column, None, NaN, blank text) is the SciGlass default, a
  melt-quenched glass. Anything else is ``unknown route 'x' (one of ...)``.
- Numbers: a missing cell is "not given" (NaN); anything else must be a finite number
  (numeric text is read, ``True`` is not a number) inside the quantity's :data:`RANGES`.
- :func:`check_rows` gives one error text per row ('' when usable; predict puts it in its
  ``error`` column and keeps the row); :func:`validate_rows` raises :class:`RowError` naming
  the first bad row (files that must be valid as a whole).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nce.data.errors import NCEError, one_line
from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, ROUTES, STATES

__all__ = [
    "COLUMNS",
    "DEFAULTS",
    "RANGES",
    "VOCABULARIES",
    "CheckedRows",
    "Range",
    "RowError",
    "check_number",
    "check_option",
    "check_rows",
    "check_word",
    "missing",
    "number_column",
    "raise_first",
    "row_label",
    "shown",
    "validate_rows",
    "word_column",
]

SHOWN = 60  # characters of a user's cell echoed in a message


class RowError(NCEError, ValueError):
    """A row (or an option standing for every row) with a value NCE cannot use; names both."""


@dataclass(frozen=True)
class Range:
    """Plausible values of one quantity, both ends included unless ``low_open``."""

    low: float
    high: float
    unit: str
    low_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return bool(above and value <= self.high)

    def mask(self, values: np.ndarray) -> np.ndarray:
        """Element-wise :meth:`__contains__` (False for NaN)."""
        above = values > self.low if self.low_open else values >= self.low
        return above & (values <= self.high)

    def __str__(self) -> str:
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}] {self.unit}"


#: One range per quantity; beyond it a value is a unit or typing error, not a glass.
RANGES: dict[str, Range] = {
    # a conductivity measured on a solid: SciGlass temperatures were curated to this span
    # (TK100C, data/curation.py); below -150 degC no glass conducts measurably, above
    # 1000 degC every glass of the data is a melt
    "temperature_C": Range(-150.0, 1000.0, "degC"),
    # an anneal or crystallization heats the solid: from 0 degC up to 1600 degC, above the
    # liquidus of every electrolyte glass (sulfides crystallize at 200-400, LATP/LAGP at 800-1000)
    "heat_treatment_C": Range(0.0, 1600.0, "degC"),
    # 1e-25 S/cm lies below any impedance measurement (SciGlass reaches 1e-20); no solid
    # electrolyte passes 10 S/cm (the best glasses: 1e-2 at 25 degC, about 1 near 300 degC)
    "sigma_S_cm": Range(1e-25, 10.0, "S/cm"),
    # a thermally activated hop: above 0, and 3 eV is beyond every ionic glass (the same
    # bound as the SciGlass curation, data/curation.py EA_RANGE_EV)
    "Ea_eV": Range(0.0, 3.0, "eV", low_open=True),
}
VOCABULARIES: dict[str, tuple[str, ...]] = {"route": ROUTES, "state": STATES}
DEFAULTS: dict[str, str] = {"route": DEFAULT_ROUTE, "state": DEFAULT_STATE}
#: Checked columns, in the order a row's problems are listed.
COLUMNS: tuple[str, ...] = (*VOCABULARIES, *RANGES)

_SEPARATORS = re.compile(r"[\s_\-\u2010-\u2015\u2212]+")


def row_label(label: object) -> str:
    """repr of an index label without numpy's type wrapper (``7``, not ``np.int64(7)``)."""
    return repr(label.item() if isinstance(label, np.generic) else label)


def shown(value: object) -> str:
    """A user's value as quoted in a message (repr, cut to :data:`SHOWN` characters)."""
    try:
        text = repr(value)
    except Exception:  # a hostile object's repr
        text = f"<{type(value).__name__}>"
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "\u2026"


def missing(value: object) -> bool:
    """An empty cell: None, NaN/NA/NaT or blank text (any other object is a value)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(value != value)
    return isinstance(value, str) and not value.strip()


def _number(value: object) -> float:
    """A given cell as a float: numbers and numeric text; NaN for anything else (bools too)."""
    if isinstance(value, (bool, np.bool_)):
        return math.nan
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return math.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return float(value)
        except OverflowError:  # an int beyond float
            return math.inf if value > 0 else -math.inf
    return math.nan


def check_word(
    value: object, column: str, vocabulary: Sequence[str] | None = None, default: str | None = None
) -> tuple[str, str]:
    """(canonical word, error text) of one ``route``/``state`` value; the error is '' when fine."""
    if missing(value):
        return (DEFAULTS[column] if default is None else default), ""
    return _word(value, column, VOCABULARIES[column] if vocabulary is None else vocabulary)


def _word(value: object, column: str, vocabulary: Sequence[str]) -> tuple[str, str]:
    if isinstance(value, str):
        word = _SEPARATORS.sub("_", value.strip().lower()).strip("_")
        if word in vocabulary:
            return word, ""
    return "", f"unknown {column} {shown(value)} (one of {', '.join(vocabulary)})"


def check_number(value: object, column: str, name: str | None = None) -> tuple[float, str]:
    """(number, error text) of one cell of a :data:`RANGES` quantity; NaN and '' when missing.
    ``name`` is the subject of the message (default ``column``)."""
    if missing(value):
        return math.nan, ""
    name = column if name is None else name
    number = _number(value)
    if not math.isfinite(number):
        return math.nan, f"{name} {shown(value)} is not a number"
    if number not in RANGES[column]:
        return math.nan, f"{name} {number:g} outside {RANGES[column]}"
    return number, ""


def word_column(
    values: Iterable, column: str, vocabulary: Sequence[str] | None = None, default: str | None = None
) -> tuple[np.ndarray, list[str]]:
    """:func:`check_word` over a column: canonical words (object array) and error texts."""
    cache: dict[tuple[type, object], tuple[str, str]] = {}
    words, errors = [], []
    for value in _as_list(values):
        try:
            key = (type(value), value)
            result = cache.get(key)
            if result is None:
                result = cache[key] = check_word(value, column, vocabulary, default)
        except TypeError:  # an unhashable cell (a list from a Parquet file)
            result = check_word(value, column, vocabulary, default)
        words.append(result[0])
        errors.append(result[1])
    return np.array(words, dtype=object), errors


def number_column(values: Iterable, column: str) -> tuple[np.ndarray, list[str]]:
    """:func:`check_number` over a column: floats (NaN where missing or bad) and error texts."""
    if isinstance(values, pd.Series) and pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64)  # the common case, checked as one array
        given = ~np.isnan(numbers)
        bad = given & ~RANGES[column].mask(numbers)
        if not bad.any():
            return numbers, [""] * len(numbers)
    pairs = [check_number(v, column) for v in _as_list(values)]
    return np.array([p[0] for p in pairs], dtype=np.float64), [p[1] for p in pairs]


def _as_list(values: Iterable) -> list:
    return values.tolist() if isinstance(values, (pd.Series, pd.Index, np.ndarray)) else list(values)


@dataclass
class CheckedRows:
    """The checked columns of a table, canonical, and one error text per row."""

    values: pd.DataFrame  # canonical words, floats (NaN = not given); columns present in the input
    errors: list[str]  # every problem of the row joined by '; ' ('' when the row is usable)


def check_rows(frame: pd.DataFrame, columns: Sequence[str] = COLUMNS) -> CheckedRows:
    """Check ``columns`` (those of :data:`COLUMNS` present in ``frame``) row by row; never raises
    for a cell's value (only :class:`NCEError` subclasses leave this module)."""
    values, problems = {}, []
    for column in columns:
        if column not in frame.columns:
            continue
        if column in VOCABULARIES:
            values[column], errors = word_column(frame[column], column)
        elif column in RANGES:
            values[column], errors = number_column(frame[column], column)
        else:
            raise ValueError(f"no row rule for column {column!r} (one of {', '.join(COLUMNS)})")
        problems.append(errors)
    joined = ["; ".join(e for e in row if e) for row in zip(*problems)] if problems else [""] * len(frame)
    return CheckedRows(pd.DataFrame(values, index=frame.index), [one_line(e) for e in joined])


def raise_first(
    errors: Sequence[str], labels: Sequence[object], where: str = "", error: type[NCEError] = RowError
) -> None:
    """Raise ``error`` for the first non-empty text: ``<where> row <label>: <text>``, with
    the count of further bad rows; ``labels`` are the row names as the user knows them."""
    bad = [i for i, e in enumerate(errors) if e]
    if not bad:
        return
    more = len(bad) - 1
    tail = f" (and {more} more row{'s' if more > 1 else ''})" if more else ""
    raise error(f"{where + ' ' if where else ''}row {labels[bad[0]]}: {errors[bad[0]]}{tail}")


def validate_rows(
    frame: pd.DataFrame,
    columns: Sequence[str] = COLUMNS,
    where: str = "",
    labels: Sequence[object] | None = None,
    error: type[NCEError] = RowError,
) -> pd.DataFrame:
    """The canonical values of :func:`check_rows`, or ``error`` naming the first bad row
    (``labels`` default to the index labels)."""
    checked = check_rows(frame, columns)
    labels = [row_label(i) for i in frame.index] if labels is None else labels
    raise_first(checked.errors, labels, where, error)
    return checked.values


def check_option(value: object, option: str, column: str) -> object:
    """A command-line option standing for every row (``--temperature-C``, ``--route``...):
    its canonical value (None when not given), or :class:`RowError` naming the option;
    NaN, inf and blank text are errors here, not "not given"."""
    if value is None:
        return None
    if column in VOCABULARIES:
        result, problem = _word(value, column, VOCABULARIES[column])
        problem = problem and f"{option}: {problem}"
    else:
        result, problem = check_number(value, column, option)
        if not problem and math.isnan(result):
            problem = f"{option} {shown(value)} is not a number"
    if problem:
        raise RowError(problem)
    return result
