"""Parse glass compositions written the way papers write them.

Reads component lists (``70Li2S-30P2S5``, ``0.7Li2S·0.3P2S5``, ``(Li2S)70 (P2S5)30``),
nested groups (``80(0.7Li2S-0.3P2S5)-20LiI``), bare formulas (``Li3PS4``,
``Li2.9PO3.3N0.46``) and mappings (``{"Li2S": 70, "P2S5": 30}``) into mol % of
components and atomic fractions. Leaf formulas, element validity and molar masses come
from pymatgen; everything else is a small recursive-descent parser.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from numbers import Real
from typing import Literal, Union

from pymatgen.core import Composition as _PmgComposition
from pymatgen.core import Element

__all__ = [
    "Composition",
    "CompositionError",
    "format_components",
    "parse_composition",
    "parse_many",
]

Basis = Literal["mol", "wt"]

MAX_Z = 103  # up to lawrencium
_SEPARATORS = frozenset("-\u2013\u2014\u2212\u00b7\u2022*+")  # - – — − · • * +
_MINUS = frozenset("-\u2212")
_OPEN = {"(": ")", "[": "]"}
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# a subscript starts with a digit: "O.2" in "Li2O.2SiO2" is a hydrate-style dot, not O0.2
_SUBSCRIPT = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_SYMBOL = re.compile(r"[A-Z][a-z]*", re.ASCII)
_SYMBOL_COUNT = re.compile(r"([A-Z][a-z]*|[)\]])(\d+(?:\.\d+)?)?", re.ASCII)
_WS = re.compile(r"\s*")
_REL_TOL = 0.005  # sums within 0.5 % of 1 or 100 are not worth a note
_MAX_DEPTH = 32  # bracket nesting limit
MAX_TEXT_LENGTH = 10_000  # characters; no glass needs more, and parsed texts are cached
_MAX_MESSAGE = 300  # characters of an error message (the echoed input is cut, not the reason)


class CompositionError(ValueError):
    """A composition text that cannot be read; the message names the problem.

    The message is one line of at most 300 characters however long or odd the input was
    (it is shown on stderr and in the ``error`` column of prediction files).
    """

    def __init__(self, message: object = "") -> None:
        text = " ".join(str(message).splitlines())
        if len(text) > _MAX_MESSAGE:
            text = text[: _MAX_MESSAGE - 1] + "\u2026"
        super().__init__(text)


class _FrozenDict(dict):
    """A read-only dict, so cached compositions can be shared safely."""

    def _readonly(self, *args, **kwargs):
        raise TypeError("Composition mappings are read-only; copy with dict(...)")

    __setitem__ = __delitem__ = __ior__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))

    def __reduce__(self):
        return (type(self), (dict(self),))


@dataclass(frozen=True)
class Composition:
    """A parsed composition.

    Attributes:
        text: the input as given (a mapping is stored as JSON).
        components: component formula -> mol %, summing to 100; empty for a bare formula.
        atoms: element symbol -> atomic fraction, summing to 1, ordered by atomic number.
        notes: what the parser changed (normalization, dropped zero amounts).
        formula: the bare formula when the input is a single compound, else "".
    """

    text: str
    components: dict[str, float]
    atoms: dict[str, float]
    notes: tuple[str, ...] = ()
    formula: str = ""

    @property
    def normalized(self) -> str:
        """Canonical text: ``56Li2S-24P2S5-20LiI`` or the bare formula."""
        return format_components(self.components) if self.components else self.formula


# --------------------------------------------------------------------------- formatting


def _fmt(value: float) -> str:
    """Compact number: up to 4 decimals, trailing zeros stripped."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    if text in ("0", "-0") and value != 0:
        text = f"{value:.4g}"
    return text


def format_components(mapping: Mapping[str, float]) -> str:
    """Write components as ``70Li2S-30P2S5`` (the inverse of parsing percent notation)."""
    return "-".join(f"{_fmt(float(amount))}{formula}" for formula, amount in mapping.items())


# --------------------------------------------------------------------------- leaf formulas


@lru_cache(maxsize=None)
def _atomic_number(symbol: str) -> int:
    return Element(symbol).Z


@lru_cache(maxsize=None)
def _canonical_symbol(symbol: str) -> str:
    """The element pymatgen counts a symbol as (``D`` and ``T`` are hydrogen)."""
    return Element(symbol).symbol


def _check_symbol(symbol: str, leaf: str) -> None:
    if not Element.is_valid_symbol(symbol):
        raise CompositionError(f"unknown element {symbol!r} in {leaf!r}")
    z = _atomic_number(symbol)
    if z > MAX_Z:
        raise CompositionError(f"unsupported element {symbol!r} (Z={z} > {MAX_Z}) in {leaf!r}")


@lru_cache(maxsize=None)
def _leaf(leaf: str) -> tuple[tuple[tuple[str, float], ...], float]:
    """Element counts (ordered by Z) and molar mass in g/mol of one formula."""
    for match in _SYMBOL_COUNT.finditer(leaf):
        symbol, count = match.groups()
        if symbol not in ")]":
            _check_symbol(symbol, leaf)
        if count is not None and float(count) == 0:
            raise CompositionError(f"zero subscript after {symbol!r} in {leaf!r}")
        if count is not None and not math.isfinite(float(count)):
            raise CompositionError(f"subscript after {symbol!r} is too large in {leaf!r}")
    try:
        pmg = _PmgComposition(_round_brackets(leaf))
        counts = pmg.get_el_amt_dict()
        weight = float(pmg.weight)
    except Exception as exc:  # pymatgen raises several types for odd formulas
        raise CompositionError(f"cannot read formula {leaf!r}: {exc}") from None
    if not counts or weight <= 0:
        raise CompositionError(f"formula {leaf!r} has no atoms")
    if not math.isfinite(weight) or not all(math.isfinite(n) for n in counts.values()):
        raise CompositionError(f"subscripts too large in {leaf!r}")
    lost = [m.group(1) for m in _SYMBOL_COUNT.finditer(leaf)
            if m.group(1) not in ")]" and _canonical_symbol(m.group(1)) not in counts]
    if lost:  # pymatgen drops amounts below its tolerance (1e-8) without a word
        raise CompositionError(f"subscript of {lost[0]!r} is too small (below 1e-8) in {leaf!r}")
    ordered = tuple(sorted(((el, float(n)) for el, n in counts.items()),
                           key=lambda item: _atomic_number(item[0])))
    return ordered, weight


def _round_brackets(formula: str) -> str:
    return formula.replace("[", "(").replace("]", ")") if "[" in formula else formula


def _scan_formula(s: str, i: int) -> tuple[int, bool] | None:
    """End of the formula starting at ``s[i]`` and whether it has a top-level element.

    A formula is a run of element symbols and bracketed sub-formulas, each with an
    optional subscript, e.g. ``Ca(PO3)2`` or ``(NH4)2SO4``. Returns None if none starts here.
    """
    start, n, top_element = i, len(s), False
    while i < n:
        c = s[i]
        if "A" <= c <= "Z":
            i = _SYMBOL.match(s, i).end()
            top_element = True
        elif c in _OPEN:
            inner = _scan_formula(s, i + 1)
            if inner is None or inner[0] >= n or s[inner[0]] != _OPEN[c]:
                break
            i = inner[0] + 1
        else:
            break
        sub = _SUBSCRIPT.match(s, i)
        if sub:
            i = sub.end()
    return (i, top_element) if i > start else None


def _check_formula_text(key: str) -> str:
    """Validate a whole string as one formula (a mapping key); return it stripped."""
    formula = key.strip()
    if len(formula) > MAX_TEXT_LENGTH:
        raise CompositionError(f"component name is {len(formula):,} characters long (at most {MAX_TEXT_LENGTH:,})")
    _check_brackets(formula)
    scanned = _scan_formula(formula, 0) if formula else None
    if scanned is None or scanned[0] != len(formula):
        raise CompositionError(f"not a chemical formula: {key!r}")
    formula = _round_brackets(formula)
    _leaf(formula)
    return formula


# --------------------------------------------------------------------------- text parser

# A term is (amount or None, node, source text); a node is a formula or a list of terms.
_Term = tuple[Union[float, None], Union[str, list], str]


class _Parser:
    """Recursive-descent parser for component lists with nested groups."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def fail(self, message: str) -> CompositionError:
        return CompositionError(f"{message} in {self.s!r}")

    def skip_ws(self) -> bool:
        end = _WS.match(self.s, self.i).end()
        moved = end > self.i
        self.i = end
        return moved

    def parse_list(self, close: str | None) -> list[_Term]:
        s, terms = self.s, []
        while True:
            terms.append(self.parse_term())
            spaced = self.skip_ws()
            if self.i >= len(s):
                if close:
                    raise self.fail("unbalanced bracket")
                return terms
            c = s[self.i]
            if c == close:
                self.i += 1
                return terms
            if c in _SEPARATORS:
                self.i += 1
                self.skip_ws()
                if self.i >= len(s) or s[self.i] == close:
                    raise self.fail(f"nothing after separator {c!r}")
            elif not spaced and c not in _OPEN:
                raise self.fail(f"unexpected {c!r} at position {self.i}")

    def number(self) -> tuple[float, str] | None:
        match = _NUMBER.match(self.s, self.i)
        if not match:
            return None
        self.i = match.end()
        value = float(match.group())
        if not math.isfinite(value):
            raise self.fail(f"amount {match.group()!r} is not finite")
        if self.i < len(self.s) and self.s[self.i] == "%":
            self.i += 1
        return value, match.group()

    def parse_term(self) -> _Term:
        s = self.s
        self.skip_ws()
        negative = self.i < len(s) and s[self.i] in _MINUS and bool(_NUMBER.match(s, self.i + 1))
        if negative:
            self.i += 1
        prefix = self.number()
        if prefix is not None:
            self.skip_ws()
        node_start = self.i
        c = s[self.i] if self.i < len(s) else ""
        node: str | list
        if "A" <= c <= "Z" or c in _OPEN:
            scanned = _scan_formula(s, self.i)
            # "(Li2S)70" is a group with an amount, "(NH4)2SO4" or "50(Li2S)2" a formula
            if scanned is not None and (
                c not in _OPEN or scanned[1] or (prefix is not None and s[scanned[0] - 1].isdigit())
            ):
                self.i = scanned[0]
                node = _round_brackets(s[node_start:self.i])
            else:
                self.i += 1
                node = self.parse_list(_OPEN[c])
        elif prefix is not None:
            raise self.fail(f"amount {prefix[1]!r} has no component")
        elif not c:
            raise self.fail("missing component")
        else:
            raise self.fail(f"unexpected {c!r} at position {self.i}")
        source = s[node_start:self.i]
        suffix = self.number() if isinstance(node, list) else None
        if prefix is not None and suffix is not None:
            raise self.fail(f"two amounts for {source!r}")
        if negative:
            raise CompositionError(f"negative amount -{prefix[1]} for {source!r}")
        amount = prefix or suffix
        return (amount[0] if amount else None, node, source)


def _check_brackets(text: str) -> None:
    stack: list[str] = []
    for c in text:
        if c in _OPEN:
            stack.append(_OPEN[c])
            if len(stack) > _MAX_DEPTH:
                raise CompositionError(f"brackets nested deeper than {_MAX_DEPTH} in {text!r}")
        elif c in ")]" and (not stack or stack.pop() != c):
            raise CompositionError(f"unbalanced bracket in {text!r}")
    if stack:
        raise CompositionError(f"unbalanced bracket in {text!r}")


def _is_round(total: float) -> bool:
    return math.isclose(total, 100.0, rel_tol=_REL_TOL) or math.isclose(total, 1.0, rel_tol=_REL_TOL)


def _flatten(
    terms: list[_Term], scale: float, where: str, out: dict[str, float], notes: list[str],
    unit: str, group: bool = False,
) -> None:
    """Add ``scale`` split over ``terms`` (recursively) to ``out`` (formula -> amount)."""
    amounts = [amount for amount, _, _ in terms]
    if len(terms) == 1 and amounts[0] is None:
        amounts = [1.0]
    elif all(a is None for a in amounts):
        raise CompositionError(f"no amounts given in {where!r}")
    elif None in amounts:
        missing = terms[amounts.index(None)][2]
        raise CompositionError(f"missing amount for {missing!r} in {where!r}")
    try:
        total = math.fsum(amounts)
    except OverflowError:
        total = math.inf
    if not math.isfinite(total):
        raise CompositionError(f"amounts too large in {where!r}")
    if total <= 0:
        raise CompositionError(f"all amounts are zero in {where!r}")
    if not _is_round(total):
        inside = f"amounts in {where!r}" if group else "amounts"
        notes.append(f"{inside} summed to {_fmt(total)}; normalized to 100 {unit} %")
    for amount, (_, node, source) in zip(amounts, terms):
        if amount == 0:
            notes.append(f"dropped {source!r} with amount 0")
            continue
        share = scale * (amount / total)  # amount / total first: 100 * 1e308 overflows
        if isinstance(node, str):
            out[node] = out.get(node, 0.0) + share
        else:
            _flatten(node, share, source, out, notes, unit, group=True)


def _build(
    text: str, flat: Mapping[str, float], basis: Basis, notes: list[str]
) -> Composition:
    """Turn formula -> amount (basis units) into a Composition in mol %."""
    infos = {formula: _leaf(formula) for formula in flat}
    if basis == "wt":
        flat = {formula: amount / infos[formula][1] for formula, amount in flat.items()}
    total = math.fsum(flat.values())
    if not (math.isfinite(total) and total > 0):
        raise CompositionError(f"amounts cannot be normalized (too small or too large) in {text!r}")
    components = {}
    for formula, amount in flat.items():
        share = 100.0 * (amount / total)
        if share > 0:
            components[formula] = share
        else:  # underflow: e.g. 5e-324 next to 70
            notes.append(f"dropped {formula!r}: its amount is negligible next to the total")
    atoms: dict[str, float] = {}
    for formula, share in components.items():
        for element, count in infos[formula][0]:
            atoms[element] = atoms.get(element, 0.0) + share * count
    atoms = {element: n for element, n in atoms.items() if n > 0}
    return Composition(text, _FrozenDict(components), _atom_fractions(atoms), tuple(notes))


def _atom_fractions(counts: Mapping[str, float]) -> _FrozenDict:
    try:
        total = math.fsum(counts.values())
    except OverflowError:
        total = math.inf
    if not (math.isfinite(total) and total > 0) or not all(math.isfinite(v) for v in counts.values()):
        raise CompositionError("subscripts or amounts too large to count the atoms")
    ordered = sorted(counts, key=_atomic_number)
    return _FrozenDict((element, counts[element] / total) for element in ordered)


def _bare_formula(text: str, formula: str) -> Composition:
    counts, _ = _leaf(formula)
    return Composition(text, _FrozenDict(), _atom_fractions(dict(counts)), (), formula)


def _parse_text(text: str, basis: Basis) -> Composition:
    if len(text) > MAX_TEXT_LENGTH:
        raise CompositionError(f"composition text is {len(text):,} characters long (at most {MAX_TEXT_LENGTH:,})")
    source = text if text.isascii() else unicodedata.normalize("NFKC", text)
    source = source.strip()
    if not source:
        raise CompositionError("empty composition")
    if source[0] == "{":
        try:
            mapping = json.loads(source)
        except (ValueError, RecursionError):
            raise CompositionError(f"invalid JSON mapping {text!r}") from None
        if not isinstance(mapping, dict):
            raise CompositionError(f"JSON composition must be an object: {text!r}")
        return _parse_mapping(mapping, basis, text)
    _check_brackets(source)
    parser = _Parser(source)
    terms = parser.parse_list(None)
    while len(terms) == 1 and terms[0][0] is None:  # unwrap "(...)" without an amount
        node = terms[0][1]
        if isinstance(node, str):
            return _bare_formula(text, node)
        terms = node
    notes: list[str] = []
    flat: dict[str, float] = {}
    _flatten(terms, 100.0, source, flat, notes, basis)
    return _build(text, flat, basis, notes)


def _parse_mapping(mapping: Mapping, basis: Basis, text: str) -> Composition:
    if not mapping:
        raise CompositionError("empty composition")
    flat: dict[str, float] = {}
    notes: list[str] = []
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise CompositionError(f"component names must be text, got {key!r}")
        formula = _check_formula_text(key)
        try:
            amount = float(value) if isinstance(value, Real) and not isinstance(value, bool) else math.nan
        except OverflowError:
            amount = math.inf
        if not math.isfinite(amount):
            raise CompositionError(f"amount {value!r} for {key!r} is not a finite number")
        if amount < 0:
            raise CompositionError(f"negative amount {_fmt(amount)} for {key!r}")
        if amount == 0:
            notes.append(f"dropped {key!r} with amount 0")
            continue
        flat[formula] = flat.get(formula, 0.0) + amount
    try:
        total = math.fsum(flat.values())
    except OverflowError:
        total = math.inf
    if not math.isfinite(total):
        raise CompositionError(f"amounts too large in {text!r}")
    if total <= 0:
        raise CompositionError(f"all amounts are zero in {text!r}")
    if not _is_round(total):
        notes.insert(0, f"amounts summed to {_fmt(total)}; normalized to 100 {basis} %")
    return _build(text, flat, basis, notes)


@lru_cache(maxsize=1 << 13)
def _parse_cached(text: str, basis: Basis) -> Composition:
    return _parse_text(text, basis)


# --------------------------------------------------------------------------- public API


def parse_composition(text: str | Mapping[str, float], basis: Basis = "mol") -> Composition:
    """Parse a composition text or mapping into mol % components and atomic fractions.

    Args:
        text: e.g. ``70Li2S-30P2S5``, ``(Li2S)70 (P2S5)30``, ``Li3PS4``, ``{"Li2S": 70}``.
        basis: whether the amounts are mol % (``"mol"``) or weight % (``"wt"``).

    Raises:
        CompositionError: the text is empty, malformed or names an unknown element.
    """
    if basis not in ("mol", "wt"):
        raise CompositionError(f"unknown basis {basis!r}; use 'mol' or 'wt'")
    if isinstance(text, str):
        return _parse_cached(text, basis)
    if isinstance(text, Mapping):
        try:
            shown = json.dumps(dict(text), default=float)
        except (TypeError, ValueError):
            shown = repr(dict(text))
        return _parse_mapping(text, basis, shown)
    raise CompositionError(f"composition must be text or a mapping, got {type(text).__name__}")


def parse_many(texts: Iterable[str], basis: Basis = "mol") -> list[Composition | CompositionError]:
    """Parse many texts; each entry is a Composition or the CompositionError it raised.

    Repeated texts are parsed once (results are shared; their mappings are read-only).
    """
    memo: dict[object, Composition | CompositionError] = {}
    results: list[Composition | CompositionError] = []
    for text in texts:
        key = text if isinstance(text, str) else None
        hit = memo.get(key) if key is not None else None
        if hit is None:
            try:
                hit = parse_composition(text, basis)
            except CompositionError as exc:
                hit = exc
            if key is not None:
                memo[key] = hit
        results.append(hit)
    return results
