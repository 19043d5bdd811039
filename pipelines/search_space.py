"""A user's composition space: components with mol % bounds on the mixture simplex,
optional linear constraints and processing dimensions, and candidates sampled inside it.

Space text: ``"Li2S:60-80,P2S5:20-40,LiI:0-30"`` (component:low-high in mol %, any formula
the composition parser reads). Constraint text: ``"LiI <= 0.5*Li2S"`` or
``"Li2S + LiI >= 70"`` (mol %; ``<=`` or ``>=``; several separated by ``;``). Processing:
``--state glass,glass_ceramic``, ``--heat-treatment-C 200-400`` (applied to the heat-treated
states), ``--route ball_mill``, read by the row rules of :mod:`nce.data.rows` (``Glass-ceramic``
is ``glass_ceramic``; the heat treatment within its one range). Candidates are scrambled
Sobol points (scipy.stats.qmc) on the bounded simplex, kept where every bound and constraint
holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from nce.data.composition import CompositionError, format_components, parse_composition
from nce.data.rows import RANGES, RowError, check_option, check_word
from nce.pipelines.errors import UserError

HEAT_TREATED_STATES = ("glass_ceramic", "amorphous_ceramic")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TOL = 1e-6


class SpaceError(UserError):
    """A space, constraint or processing option that cannot define candidates."""


def _q(value, limit: int = 60) -> str:
    """The user's text as quoted in a message, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class LinearConstraint:
    coefficients: tuple[float, ...]  # per component, in mol %
    sense: str  # "<=" or ">="
    rhs: float
    text: str

    def holds(self, mol_percent: np.ndarray) -> np.ndarray:
        lhs = mol_percent @ np.asarray(self.coefficients)
        return lhs <= self.rhs + _TOL if self.sense == "<=" else lhs >= self.rhs - _TOL


@dataclass(frozen=True)
class SearchSpace:
    components: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    constraints: tuple[LinearConstraint, ...] = ()
    states: tuple[str, ...] = ()
    heat_treatment_C: tuple[float, float] | None = None
    route: str | None = None

    def feasible(self, mol_percent: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(mol_percent)
        ok = (x >= np.asarray(self.lower) - _TOL).all(axis=1) & (x <= np.asarray(self.upper) + _TOL).all(axis=1)
        ok &= np.abs(x.sum(axis=1) - 100.0) <= 1e-6
        for c in self.constraints:
            ok &= c.holds(x)
        return ok

    def composition_text(self, mol_percent) -> str:
        """``65Li2S-25P2S5-10LiI``: the user's components, zeros left out."""
        return format_components({c: round(float(v), 2) for c, v in zip(self.components, mol_percent) if v > 1e-9})

    def sample(self, n: int, seed: int = 0, step_mol_percent: float = 0.5, max_draws: int = 1 << 17) -> pd.DataFrame:
        """Up to ``n`` distinct feasible candidates (mol % columns per component, rounded to
        ``step_mol_percent``) plus processing columns when the space has them."""
        k = len(self.components)
        lo, hi = np.asarray(self.lower), np.asarray(self.upper)
        sobol = qmc.Sobol(d=max(k - 1, 1), scramble=True, seed=seed)
        found, draws = [], 0
        while draws < max_draws and sum(len(f) for f in found) < 4 * n:
            batch = 1 << 12
            u = sobol.random(batch)[:, : k - 1]
            draws += batch
            free = lo[:-1] + u * (hi[:-1] - lo[:-1])
            free = np.round(free / step_mol_percent) * step_mol_percent
            last = 100.0 - free.sum(axis=1, keepdims=True)
            x = np.hstack([free, last]) if k > 1 else np.full((batch, 1), 100.0)
            found.append(x[self.feasible(x)])
        x = np.unique(np.vstack(found), axis=0) if found else np.empty((0, k))
        if len(x) == 0:
            raise SpaceError(
                "no composition satisfies the bounds and constraints (check that the bounds can sum to 100 mol %)"
            )
        rng = np.random.default_rng(seed)
        x = x[rng.permutation(len(x))[:n]]
        out = pd.DataFrame(x, columns=list(self.components))
        out.insert(0, "composition", [self.composition_text(row) for row in x])
        return self._with_processing(out, rng)

    def _with_processing(self, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        if self.route:
            frame["route"] = self.route
        if not self.states and self.heat_treatment_C is None:
            return frame
        states = self.states or ("glass_ceramic",)
        frame["state"] = rng.choice(states, size=len(frame))
        treated = frame["state"].isin(HEAT_TREATED_STATES).to_numpy()
        if self.heat_treatment_C is not None:
            low, high = self.heat_treatment_C
            ht = np.round(rng.uniform(low, high, size=len(frame)) / 10.0) * 10.0
            frame["heat_treatment_C"] = np.where(treated, ht, np.nan)
        return frame


def parse_space(text: str) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]:
    """``"Li2S:60-80,P2S5:20-40"`` -> components, lower and upper bounds (mol %)."""
    if not isinstance(text, str) or not text.strip():
        raise SpaceError("empty --space; write it as 'Li2S:60-80,P2S5:20-40,LiI:0-30'")
    components, lower, upper, formulas = [], [], [], []
    for part in text.split(","):
        match = re.fullmatch(rf"\s*([^:]+?)\s*:\s*({_NUMBER})\s*-\s*({_NUMBER})\s*", part)
        if not match:
            raise SpaceError(
                f"cannot read {_q(part.strip())} in --space: write component:low-high in mol %, e.g. Li2S:60-80"
            )
        name, low, high = match.group(1), float(match.group(2)), float(match.group(3))
        try:
            parsed = parse_composition(name)
        except CompositionError as exc:
            raise SpaceError(f"component {_q(name)} in --space: {exc}") from None
        if not parsed.formula:  # "70Li2S" would be written as 5070Li2S in the suggestions
            raise SpaceError(
                f"component {_q(name)} in --space is not a single compound; "
                "give one formula per component, e.g. Li2S:60-80"
            )
        if not (0 <= low <= high <= 100):
            raise SpaceError(f"bounds of {_q(name)} must satisfy 0 <= low <= high <= 100 mol %, got {low:g}-{high:g}")
        if parsed.formula in formulas:
            raise SpaceError(
                f"component {_q(name)} appears twice in --space (as {_q(components[formulas.index(parsed.formula)])})"
            )
        formulas.append(parsed.formula)
        components.append(name)
        lower.append(low)
        upper.append(high)
    if sum(lower) > 100 + _TOL or sum(upper) < 100 - _TOL:
        raise SpaceError(f"bounds cannot sum to 100 mol % (lows sum to {sum(lower):g}, highs to {sum(upper):g})")
    return tuple(components), tuple(lower), tuple(upper)


def parse_constraints(text: str | None, components: tuple[str, ...]) -> tuple[LinearConstraint, ...]:
    """``"LiI <= 0.5*Li2S; Li2S + LiI >= 70"`` -> linear constraints over the components."""
    if not text or not text.strip():
        return ()
    out = []
    for piece in text.split(";"):
        piece = piece.strip()
        match = re.fullmatch(r"(.+?)\s*(<=|>=)\s*(.+)", piece)
        if not match:
            raise SpaceError(f"cannot read constraint {_q(piece)}: write e.g. 'LiI <= 0.5*Li2S' (<= or >=)")
        left = _linear(match.group(1), components, piece)
        right = _linear(match.group(3), components, piece)
        coeffs = left[0] - right[0]
        rhs = right[1] - left[1]
        if not np.any(coeffs):
            raise SpaceError(f"constraint {_q(piece)} names no component of the space ({', '.join(components)})")
        out.append(LinearConstraint(tuple(float(c) for c in coeffs), match.group(2), float(rhs), piece))
    return tuple(out)


def _linear(expr: str, components: tuple[str, ...], where: str) -> tuple[np.ndarray, float]:
    coeffs, constant = np.zeros(len(components)), 0.0
    terms = re.findall(r"([+-]?)\s*([^+-]+)", expr.replace(" ", ""))
    if not terms or "".join(s + t for s, t in terms) != expr.replace(" ", ""):
        raise SpaceError(f"cannot read {_q(expr.strip())} in constraint {_q(where)}")
    for sign, term in terms:
        factor = -1.0 if sign == "-" else 1.0
        match = re.fullmatch(rf"(?:({_NUMBER})\*)?(.+)", term)
        number, name = match.group(1), match.group(2)
        if re.fullmatch(_NUMBER, name):
            constant += factor * float(name)
            continue
        if name not in components:
            raise SpaceError(
                f"constraint {_q(where)} names {_q(name)}, "
                f"which is not a component of the space ({', '.join(components)})"
            )
        coeffs[components.index(name)] += factor * (float(number) if number else 1.0)
    return coeffs, constant


def parse_states(text: str | None) -> tuple[str, ...]:
    """``"glass, Glass-ceramic"`` -> canonical states (:mod:`nce.data.rows`), each once."""
    if not text:
        return ()
    states = []
    for part in (s for s in text.split(",") if s.strip()):
        state, problem = check_word(part, "state")
        if problem:
            raise SpaceError(f"--state: {problem}")
        if state not in states:
            states.append(state)
    return tuple(states)


def parse_range(text: str | None, what: str, column: str = "heat_treatment_C") -> tuple[float, float] | None:
    """``"200-400"`` or ``"300"`` -> (low, high), both inside ``column``'s one range
    (:data:`nce.data.rows.RANGES`)."""
    if text is None or not str(text).strip():
        return None
    match = re.fullmatch(rf"\s*({_NUMBER})\s*(?:-\s*({_NUMBER}))?\s*", str(text))
    if not match:
        raise SpaceError(f"cannot read {what} {_q(text)}: give a value or a range low-high, e.g. 200-400")
    low = float(match.group(1))
    high = float(match.group(2)) if match.group(2) else low
    for value in (low, high):
        if value not in RANGES[column]:
            raise SpaceError(f"{what} {value:g} outside {RANGES[column]} (in {_q(text)})")
    if low > high:
        raise SpaceError(f"{what} {_q(text)}: the low end is above the high end")
    return low, high


def build_space(
    space: str,
    constraints: str | None = None,
    states: str | None = None,
    heat_treatment_C: str | None = None,
    route: str | None = None,
) -> SearchSpace:
    components, lower, upper = parse_space(space)
    if route is not None:
        try:
            route = check_option(route, "--route", "route")
        except RowError as exc:
            raise SpaceError(str(exc)) from None
    return SearchSpace(
        components,
        lower,
        upper,
        parse_constraints(constraints, components),
        parse_states(states),
        parse_range(heat_treatment_C, "--heat-treatment-C"),
        route,
    )
