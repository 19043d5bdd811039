"""Parse glass compositions written the way papers write them.

Reads component lists (``70Li2S-30P2S5``, ``0.7Li2S·0.3P2S5``, ``(Li2S)70 (P2S5)30``),
nested groups (``80(0.7Li2S-0.3P2S5)-20LiI``), bare formulas (``Li3PS4``,
``Li2.9PO3.3N0.46``), ratio notation (``Na2O·2SiO2``, ``Na2O-2SiO2``, ``(Li2S)9(LaOI)``),
formulas with spaces (``Li1.4Al0.4Ti1.6 (PO4)3``, ``Li0.022 La0.117 Ti0.208 O0.626``) and
mappings (``{"Li2S": 70, "P2S5": 30}``) into mol % of components and atomic fractions. Leaf
formulas, element validity and molar masses come from pymatgen; everything else is a small
recursive-descent parser.

How amounts are read, per list of components (the rules of glass science notation):

- Every component has a number (``70Li2S-30P2S5``, ``0.7Li2S·0.3P2S5``): amounts, normalized
  to 100 mol % (to 100 wt % then converted with ``basis="wt"``).
- Ratio notation: a component without a number counts 1 and the number before (or, for a
  bracket group, after) another one is its ratio. It applies when the components are joined
  by a middle dot (``Na2O·2SiO2``, ``Na2O·Al2O3·6SiO2``, ``3Li2S·P2S5``, ``Li2S·P2S5`` = 1:1;
  also ``•``, ``∙``, ``⋅`` and ``*``), when bracket groups follow each other
  (``(Li2S)9(LaOI)`` = 9:1, pymatgen's formula-unit reading), and when the first component of
  a ``-``/``+`` list has no number (``Na2O-2SiO2``, ``Li2O-2B2O3``). Ratios count formula
  units, i.e. moles, so ``basis="wt"`` refuses them.
- A space (or nothing) between pieces of one formula joins them into that formula when one
  side is a single element with its subscript or a bracket group: ``Li6.02P0.98Si0.02S5 Br``,
  ``Li0.022 La0.117 Ti0.208``, ``Li1.4Al0.4Ti1.6 (PO4)3``, ``(Li0.5Ce0.5)(MoO4)``,
  ``(Li2S)(LaOI)`` (= Li2 S La O I). The result is what pymatgen reads for the same string.
- One wrapping pair of quotes (``"..."``, ``'...'``, ``“...”``, ``‘...’``) is removed.

What stays an error, with a one-line message naming the possible readings:

- ``Li2S-P2S5`` (no numbers, dash or plus): the name of a system, not a composition; 50:50
  would be a guess. Write ``Li2S·P2S5`` for one formula unit of each or give amounts.
- ``Li2S P2S5`` (two compounds, a space, no numbers): one formula with a stray space or two
  components without amounts.
- ``70Li2S-P2S5``: a ratio 70:1, or mol % with P2S5's amount missing.
- ``Na2O-30SiO2-20B2O3``: the numbers given sum to 10-100 (or are fractions summing below 1),
  so "Na2O is the rest" (50 mol %) is as likely as a ratio 1:30:20.
- ``Na2O 2SiO2`` and ``Li2O.2SiO2``: a ratio 1:2, or a subscript set apart from its element.
- ``70Li2S (P2S5)30``: amounts in two notations (70:30), or one formula with a space
  (``70Li2S(P2S5)30``), as in ``80Li1.4Al0.4Ti1.6 (PO4)3-20LiI``.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from numbers import Real
from typing import Literal

from pymatgen.core import Composition as _PmgComposition
from pymatgen.core import Element

from nce.data.errors import NCEError, one_line

__all__ = [
    "Composition",
    "CompositionError",
    "format_components",
    "parse_composition",
    "parse_many",
]

Basis = Literal["mol", "wt"]

MAX_Z = 103  # up to lawrencium
# - – — − + and the dots of ratio notation: · • ∙ ⋅ *
_DOTS = frozenset("\u00b7\u2022\u2219\u22c5*")
_SEPARATORS = frozenset("-\u2013\u2014\u2212+") | _DOTS
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}  # one wrapping pair is removed
_MINUS = frozenset("-\u2212")
_OPEN = {"(": ")", "[": "]"}
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# a subscript starts with a digit: "O.2" in "Li2O.2SiO2" is a hydrate-style dot, not O0.2
_SUBSCRIPT = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_SYMBOL = re.compile(r"[A-Z][a-z]*", re.ASCII)
_SYMBOL_COUNT = re.compile(r"([A-Z][a-z]*|[)\]])(\d+(?:\.\d+)?)?", re.ASCII)
_SINGLE_ELEMENT = re.compile(r"[A-Z][a-z]*(?:\d+(?:\.\d+)?)?", re.ASCII)  # "Br", "La0.117"
_RATIO_SUM = (10.0, 100.0)  # a "-" list with the first number missing and these sums is ambiguous
_WS = re.compile(r"\s*")
_REL_TOL = 0.005  # sums within 0.5 % of 1 or 100 are not worth a note
_MAX_DEPTH = 32  # bracket nesting limit
MAX_TEXT_LENGTH = 10_000  # characters; no glass needs more, and parsed texts are cached
_MAX_MESSAGE = 300  # characters of an error message (the echoed input is cut, not the reason)


class CompositionError(NCEError, ValueError):
    """A composition text that cannot be read; the message names the problem.

    The message is one line of at most 300 characters however long or odd the input was
    (it is shown on stderr and in the ``error`` column of prediction files).
    """

    def __init__(self, message: object = "") -> None:
        super().__init__(one_line(message, _MAX_MESSAGE))


def _total(amounts: Iterable[float], where: str) -> float:
    """Sum of the amounts of ``where``; finite and positive, or a CompositionError."""
    try:
        total = math.fsum(amounts)
    except OverflowError:
        total = math.inf
    if not math.isfinite(total):
        raise CompositionError(f"amounts too large in {where!r}")
    if total <= 0:
        raise CompositionError(f"all amounts are zero in {where!r}")
    return total


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


@cache
def _atomic_number(symbol: str) -> int:
    return Element(symbol).Z


@cache
def _canonical_symbol(symbol: str) -> str:
    """The element pymatgen counts a symbol as (``D`` and ``T`` are hydrogen)."""
    return Element(symbol).symbol


def _check_symbol(symbol: str, leaf: str) -> None:
    if not Element.is_valid_symbol(symbol):
        raise CompositionError(f"unknown element {symbol!r} in {leaf!r}")
    z = _atomic_number(symbol)
    if z > MAX_Z:
        raise CompositionError(f"unsupported element {symbol!r} (Z={z} > {MAX_Z}) in {leaf!r}")


@cache
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
    lost = [
        m.group(1)
        for m in _SYMBOL_COUNT.finditer(leaf)
        if m.group(1) not in ")]" and _canonical_symbol(m.group(1)) not in counts
    ]
    if lost:  # pymatgen drops amounts below its tolerance (1e-8) without a word
        raise CompositionError(f"subscript of {lost[0]!r} is too small (below 1e-8) in {leaf!r}")
    ordered = tuple(sorted(((el, float(n)) for el, n in counts.items()), key=lambda item: _atomic_number(item[0])))
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


@dataclass(frozen=True)
class _Term:
    """One component as written: ``70Li2S``, ``(Li2S)70``, ``Na2O`` or ``(0.7Li2S-0.3P2S5)``."""

    amount: float | None
    node: str | _Group  # a formula, or the list inside a bracket group
    source: str  # the component without its amount, e.g. "Li2S" or "(0.7Li2S-0.3P2S5)"
    prefix: bool = False  # the amount stands before the component (70Li2S), not after ((Li2S)70)
    number: str = ""  # the amount as written, "%" included


@dataclass(frozen=True)
class _Group:
    """Components and what stands between them: a separator, or "" for a space or nothing."""

    terms: tuple[_Term, ...]
    gaps: tuple[str, ...]
    units: bool = field(default=False)  # bracket groups side by side: formula units, (Li2S)9(LaOI)


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

    def parse_list(self, close: str | None) -> _Group:
        s, terms, gaps = self.s, [], []
        while True:
            terms.append(self.parse_term())
            spaced = self.skip_ws()
            if self.i >= len(s):
                if close:
                    raise self.fail("unbalanced bracket")
                return _Group(tuple(terms), tuple(gaps))
            c = s[self.i]
            if c == close:
                self.i += 1
                return _Group(tuple(terms), tuple(gaps))
            if c in _SEPARATORS:
                self.i += 1
                self.skip_ws()
                if self.i >= len(s) or s[self.i] == close:
                    raise self.fail(f"nothing after separator {c!r}")
                gaps.append(c)
            elif not spaced and c not in _OPEN:
                if c == "." and self.i + 1 < len(s) and s[self.i + 1].isdigit():
                    raise CompositionError(
                        f"unexpected '.' at position {self.i} in {self.s!r}: write '\u00b7' for ratio "
                        f"notation ({s[: self.i]}\u00b7{s[self.i + 1 :]}) or a digit before a subscript "
                        f"({s[: self.i]}0{s[self.i :]})"
                    )
                raise self.fail(f"unexpected {c!r} at position {self.i}")
            else:
                gaps.append("")

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
            return value, match.group() + "%"
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
        node: str | _Group
        if "A" <= c <= "Z" or c in _OPEN:
            scanned = _scan_formula(s, self.i)
            # "(Li2S)70" is a group with an amount, "(NH4)2SO4" or "50(Li2S)2" a formula
            if scanned is not None and (
                c not in _OPEN or scanned[1] or (prefix is not None and s[scanned[0] - 1].isdigit())
            ):
                self.i = scanned[0]
                node = _round_brackets(s[node_start : self.i])
            else:
                self.i += 1
                node = self.parse_list(_OPEN[c])
        elif prefix is not None:
            raise self.fail(f"amount {prefix[1]!r} has no component")
        elif not c:
            raise self.fail("missing component")
        else:
            raise self.fail(f"unexpected {c!r} at position {self.i}")
        source = s[node_start : self.i]
        suffix = self.number() if isinstance(node, _Group) else None
        if prefix is not None and suffix is not None:
            raise self.fail(f"two amounts for {source!r}")
        if negative:
            raise CompositionError(f"negative amount -{prefix[1].rstrip('%')} for {source!r}")
        amount = prefix or suffix
        return _Term(amount[0] if amount else None, node, source, prefix is not None, amount[1] if amount else "")


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


# --------------------------------------------------------------------------- notations


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _formula_text(term: _Term) -> str | None:
    """The component as one formula without its prefix amount (``Br``, ``(PO4)3``), or None."""
    node = term.node
    if isinstance(node, str):
        return node
    if len(node.terms) != 1 or node.terms[0].amount is not None or node.units:
        return None
    inner = _formula_text(node.terms[0])
    if inner is None:
        return None
    if term.amount is None or term.prefix:
        return f"({inner})"
    return f"({inner}){term.number}" if _SUBSCRIPT.fullmatch(term.number) else None


def _join(left: _Term, right: _Term) -> _Term | None:
    """``left`` and ``right`` (a space or nothing between them) as one formula, if they are one.

    ``Li6.02P0.98Si0.02S5 Br``, ``La0.62 Li0.14(Mg0.5W0.5)O3``, ``Li1.4Al0.4Ti1.6 (PO4)3`` and
    ``(Li2S)(LaOI)`` join: one side is a single element or a bracket group. ``Li2S P2S5`` (two
    compounds) does not, nor ``(Li2S)70 P2S5`` (an amount after a group ends a component).
    """
    if right.prefix or (left.amount is not None and not left.prefix) or left.number.endswith("%"):
        return None
    lt, rt = _formula_text(left), _formula_text(right)
    if lt is None or rt is None:
        return None
    bracket = rt.startswith("(")
    if left.prefix:  # "65Li6PS5 Cl-35LiI"; "70Li2S (P2S5)30" has two readings
        if right.amount is not None:
            if isinstance(left.node, str):
                inner = _formula_text(replace(right, amount=None))[1:-1]
                pair = f"{left.number}{lt} {rt}"
                raise CompositionError(
                    f"ambiguous {pair!r}: {left.number} {lt} and {right.number} {inner} "
                    f"(write {left.number}{lt}-{right.number}{inner}), or one formula with a space "
                    f"(write {left.number}{lt}{rt})"
                )
            return None
        if not (bracket or _SINGLE_ELEMENT.fullmatch(rt)):
            return None
    elif not (bracket or lt.startswith("(") or _SINGLE_ELEMENT.fullmatch(lt) or _SINGLE_ELEMENT.fullmatch(rt)):
        return None
    joined = lt + rt
    return _Term(left.amount, joined, joined, left.prefix, left.number)


def _resolve(group: _Group) -> _Group:
    """Join formulas written with spaces and mark bracket groups side by side as formula units."""
    terms = tuple(t if isinstance(t.node, str) else replace(t, node=_resolve(t.node)) for t in group.terms)
    gaps = group.gaps
    if (
        len(terms) > 1
        and not any(gaps)
        and all(not isinstance(t.node, str) and not t.prefix for t in terms)
        and any(t.amount is None for t in terms)
        and any(t.amount is not None for t in terms)
    ):
        return _Group(terms, gaps, units=True)  # (Li2S)9(LaOI): one LaOI to nine Li2S
    out, out_gaps = [terms[0]], []
    for gap, right in zip(gaps, terms[1:]):
        joined = None if gap else _join(out[-1], right)
        if joined is None:
            out.append(right)
            out_gaps.append(gap)
        else:
            out[-1] = joined
    return _Group(tuple(out), tuple(out_gaps))


def _written(terms: Iterable[_Term], amounts: Iterable[float | None], sep: str) -> str:
    """Components written back with their amounts (None: none), e.g. ``Na2O·2SiO2``, ``50Na2O-50SiO2``."""
    return sep.join(f"{'' if a is None else _fmt(a)}{t.source}" for t, a in zip(terms, amounts))


def _amounts(group: _Group, where: str) -> tuple[list[float], bool]:
    """The amount of each component of ``group`` and whether it was read as ratio notation."""
    terms, gaps = group.terms, group.gaps
    amounts = [t.amount for t in terms]
    if len(terms) == 1 and amounts[0] is None:
        return [1.0], False
    if None not in amounts:
        return amounts, False  # type: ignore[return-value]
    shown = _clip(where)
    for gap, left, right in zip(gaps, terms, terms[1:]):
        if not gap and left.amount is None and right.prefix:  # "Na2O 2SiO2"
            pair = f"{left.source} {right.number}{right.source}"
            within = "" if pair == shown else f" in {shown!r}"
            raise CompositionError(
                f"ambiguous {pair!r}{within}: a ratio 1:{_fmt(right.amount)} (write "
                f"{left.source}\u00b7{right.number}{right.source}) or a subscript set apart by a space "
                f"(write {left.source}{right.number}{right.source})"
            )
    ratio = [1.0 if a is None else a for a in amounts]
    percent = any(t.number.endswith("%") for t in terms)  # "Na2O-2%SiO2" is no ratio
    if not percent and (group.units or any(gap in _DOTS for gap in gaps)):
        return ratio, True
    if all(a is None for a in amounts):
        if any(gaps):
            raise CompositionError(
                f"no amounts given in {shown!r}: this names a system; give amounts "
                f"(e.g. {_written(terms, [100 / len(terms)] * len(terms), '-')}) or write "
                f"{_written(terms, amounts, chr(0xB7))} for one formula unit of each"
            )
        raise CompositionError(
            f"no amounts given in {shown!r}: write one formula without spaces "
            f"({''.join(t.source for t in terms)}), {_written(terms, amounts, chr(0xB7))} for one formula "
            f"unit of each, or give amounts"
        )
    missing = [t.source for t, a in zip(terms, amounts) if a is None]
    given = math.fsum(a for a in amounts if a is not None)
    fractions = given < 1 and all(a is None or a <= 1 for a in amounts)
    rest = 1.0 if fractions else 100.0
    if len(missing) == 1 and given < rest:
        filled = _written(terms, [rest - given if a is None else a for a in amounts], "-")
        as_amounts = f"{missing[0]} is the rest (write {filled})"
    else:
        as_amounts = f"the amount of {', '.join(missing)} is missing"
    as_ratio = f"a ratio {':'.join(_fmt(a) for a in ratio)} (write {_written(terms, amounts, chr(0xB7))})"
    if percent:
        raise CompositionError(f"missing amount for {missing[0]!r} in {shown!r}: {as_amounts}")
    if amounts[0] is not None:  # "70Li2S-P2S5"
        raise CompositionError(f"missing amount for {missing[0]!r} in {shown!r}: {as_ratio}, or {as_amounts}")
    if fractions or _RATIO_SUM[0] <= given < _RATIO_SUM[1]:  # "Na2O-30SiO2-20B2O3"
        raise CompositionError(f"ambiguous {shown!r}: {as_ratio}, or {as_amounts}")
    return ratio, True  # "Na2O-2SiO2": the first component has no number


def _flatten(
    group: _Group,
    scale: float,
    where: str,
    out: dict[str, float],
    notes: list[str],
    unit: str,
    nested: bool = False,
) -> None:
    """Add ``scale`` split over the terms of ``group`` (recursively) to ``out`` (formula -> amount)."""
    amounts, ratio = _amounts(group, where)
    if ratio and unit == "wt":
        raise CompositionError(
            f"{_clip(where)!r} is ratio notation (a component without a number counts 1): it counts "
            f"formula units, i.e. moles, not weight; give every weight % or use basis 'mol'"
        )
    total = _total(amounts, where)
    inside = f" in {where!r}" if nested else ""
    if ratio:
        notes.append(
            f"read{inside} as the ratio {':'.join(_fmt(a) for a in amounts)} (a component "
            f"without a number counts 1); normalized to 100 {unit} %"
        )
    elif not _is_round(total):
        notes.append(f"amounts{inside} summed to {_fmt(total)}; normalized to 100 {unit} %")
    for amount, term in zip(amounts, group.terms):
        if amount == 0:
            notes.append(f"dropped {term.source!r} with amount 0")
            continue
        share = scale * (amount / total)  # amount / total first: 100 * 1e308 overflows
        if isinstance(term.node, str):
            out[term.node] = out.get(term.node, 0.0) + share
        else:
            _flatten(term.node, share, term.source, out, notes, unit, nested=True)


def _build(text: str, flat: Mapping[str, float], basis: Basis, notes: list[str]) -> Composition:
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
    if len(source) >= 2 and _QUOTES.get(source[0]) == source[-1]:  # a cell wrapped in quotes
        source = source[1:-1].strip()
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
    group = _resolve(parser.parse_list(None))
    while len(group.terms) == 1 and group.terms[0].amount is None:  # unwrap "(...)" without an amount
        node = group.terms[0].node
        if isinstance(node, str):
            return _bare_formula(text, node)
        group = node
    notes: list[str] = []
    flat: dict[str, float] = {}
    _flatten(group, 100.0, source, flat, notes, basis)
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
    total = _total(flat.values(), text)
    if not _is_round(total):
        notes.insert(0, f"amounts summed to {_fmt(total)}; normalized to 100 {basis} %")
    return _build(text, flat, basis, notes)


@lru_cache(maxsize=1 << 13)
def _parse_cached(text: str, basis: Basis) -> Composition:
    return _parse_text(text, basis)


# --------------------------------------------------------------------------- public API


def parse_composition(text: str | Mapping[str, float], basis: Basis = "mol") -> Composition:
    """Parse a composition text or mapping into mol % components and atomic fractions.

    Ratio notation (``Na2O·2SiO2``, ``Na2O-2SiO2``, ``(Li2S)9(LaOI)``: a component without a
    number counts 1) gives components in mol %; a formula written with spaces
    (``Li1.4Al0.4Ti1.6 (PO4)3``) or as bracket groups (``(Li2S)(LaOI)``) is one bare formula.
    ``Li2S-P2S5`` without numbers names a system and stays an error, as before: 50:50 would be
    a guess (``Li2S·P2S5`` is one formula unit of each). The module docstring lists the rules.

    Args:
        text: e.g. ``70Li2S-30P2S5``, ``(Li2S)70 (P2S5)30``, ``Li3PS4``, ``Na2O·2SiO2``,
            ``{"Li2S": 70}``; one wrapping pair of quotes is removed.
        basis: whether the amounts are mol % (``"mol"``) or weight % (``"wt"``); ratio
            notation counts formula units (moles) and is refused with ``"wt"``.

    Raises:
        CompositionError: the text is empty, malformed, ambiguous (the message names the
            readings) or names an unknown element.
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
