"""``nce suggest``: the next experiments inside a user's composition space or candidate list.

1. Candidates: Sobol points on the bounded simplex (``--space``,
   :mod:`nce.pipelines.search_space`), or the rows of the user's own candidate file
   (``--candidates``, :func:`read_candidates`): compositions, with processing, the lab can make.
2. Belief: NCE's predictive distribution for each candidate (nce.models.uncertainty; the
   quantiles whose 0.05 and 0.95 levels are the printed 90 % interval, asymmetric and
   heavy-tailed as NCE's errors are), updated by the user's own measurements
   (``--measured``): a Gaussian process on the residuals (measured − NCE) in atomic-fraction
   and processing space, with NCE as its prior mean (a GP with a model prior mean; Rasmussen
   & Williams 2006, §2.7), which moves the distribution by the GP mean and narrows it around
   its centre by the GP's variance reduction. A measurement's weight is the ratio of the prior
   variance (NCE's own uncertainty) to the measurement scatter (0.3 decades, the within-lab
   repeatability), so measured glasses pull their neighbourhood hard and leave distant
   compositions to NCE.
3. Acquisition, all read from that distribution: expected improvement (Jones et al. 1998,
   the expectation of max(Y - best, 0) over the quantiles), upper confidence bound (Srinivas
   et al. 2010, the quantile at Phi(kappa)), Thompson sampling (a random quantile), pure
   exploration (the widest 90 % interval), exploitation (the best expected value); for two
   objectives, hypervolume improvement of the optimistic point over the current front. The
   default is expected improvement in a ``--space`` and exploitation among ``--candidates``
   (:func:`default_acquisition`).
4. Batch: greedy with local penalization (González et al. 2016, simplified): after each pick,
   the acquisition of candidates near it is damped, so a batch spreads over the space
   (exploitation takes the best expected values as they come);
   for the Pareto objective the pick joins the front instead (kriging believer).
Candidates outside NCE's domain are kept and marked ``in_domain = False``; measured
compositions (with the same state and heat treatment) are never suggested again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from nce.data.arrhenius import log10_sigma_at
from nce.data.composition import parse_many
from nce.data.extra import read_table_file
from nce.data.rows import raise_first
from nce.models.nce_model import quantile_column
from nce.pipelines.errors import UserError
from nce.pipelines.search_space import SearchSpace

ACQUISITIONS = ("ei", "ucb", "thompson", "explore", "exploit")
OBJECTIVES = ("sigma", "ea", "pareto")
Z90 = 1.6448536269514722
MEASUREMENT_SD = 0.3  # decades (log10 sigma); Ea: 0.03 eV
EA_MEASUREMENT_SD = 0.03
UCB_KAPPA = 2.0
#: The upper confidence bound is the belief's quantile at Phi(kappa) (0.977 for kappa 2).
UCB_LEVEL = float(norm.cdf(UCB_KAPPA))
PROCESSING = ("route", "state", "heat_treatment_C")


#: Quantile levels a belief is held at: the midpoints of 50 equal-probability bins (so an
#: expectation is their plain mean), which include the interval's 0.05 and 0.95.
LEVELS = tuple(np.round((np.arange(50) + 0.5) / 50, 4))


@dataclass
class Belief:
    """The distribution of one objective (larger is better) per candidate: its centre (NCE's
    point estimate, moved by measurements) and its quantiles at :data:`LEVELS` (one row each)."""

    mean: np.ndarray
    quantiles: np.ndarray

    def quantile(self, level) -> np.ndarray:
        """The quantile at ``level`` (a number, or one per candidate), interpolated in the levels."""
        level = np.broadcast_to(np.asarray(level, dtype=float), self.mean.shape)
        position = np.interp(level, LEVELS, np.arange(len(LEVELS)))
        below = np.clip(np.floor(position).astype(int), 0, len(LEVELS) - 1)
        above = np.clip(below + 1, 0, len(LEVELS) - 1)
        rows = np.arange(len(self.mean))
        share = position - below
        return (1 - share) * self.quantiles[rows, below] + share * self.quantiles[rows, above]

    @property
    def sd(self) -> np.ndarray:
        """A robust spread: the 90 % interval's width over 2 z(0.95) (the GP's prior scale)."""
        return np.maximum((self.quantile(0.95) - self.quantile(0.05)) / (2 * Z90), 1e-4)


def _coordinates(frame: pd.DataFrame, elements: list[str]) -> np.ndarray:
    """Atomic fractions of the space's elements plus processing, for the residual GP."""
    atoms = frame.reindex(columns=elements, fill_value=0.0).fillna(0.0).to_numpy(dtype=float)
    extra = []
    if "state" in frame:
        extra.append(frame["state"].isin(("glass_ceramic", "amorphous_ceramic")).to_numpy(dtype=float))
    if "heat_treatment_C" in frame:
        extra.append(
            np.nan_to_num(pd.to_numeric(frame["heat_treatment_C"], errors="coerce").to_numpy(dtype=float)) / 1000.0
        )
    return np.column_stack([atoms, *extra]) if extra else atoms


def residual_update(
    prior: Belief, X_cand: np.ndarray, X_meas: np.ndarray, residual: np.ndarray, noise_sd: float
) -> Belief:
    """Posterior of NCE + GP(residual) at the candidates, given measured residuals."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    ok = np.isfinite(residual)
    if not ok.any():
        return prior
    prior_sd = prior.sd
    amplitude = float(np.median(prior_sd)) ** 2
    kernel = ConstantKernel(amplitude, "fixed") * RBF(0.1, (0.02, 1.0)) + WhiteKernel(noise_sd**2, "fixed")
    gp = GaussianProcessRegressor(kernel=kernel, optimizer="fmin_l_bfgs_b" if ok.sum() >= 8 else None, random_state=0)
    gp.fit(X_meas[ok], residual[ok])
    mean, sd = gp.predict(X_cand, return_std=True)
    # the GP's prior sd is NCE's typical sd; scale it to each candidate's own NCE sd
    shrink = np.clip(np.sqrt(np.clip(sd**2 - noise_sd**2, 0.0, None)) / np.sqrt(amplitude), 0.05, 1.0)
    centre = prior.mean[:, None]
    return Belief(prior.mean + mean, centre + mean[:, None] + shrink[:, None] * (prior.quantiles - centre))


def expected_improvement(b: Belief, best: float) -> np.ndarray:
    """E[max(Y - best, 0)] under the belief: the mean over its equal-probability quantiles."""
    return np.clip(b.quantiles - best, 0.0, None).mean(axis=1)


def hypervolume_2d(points: np.ndarray, reference: np.ndarray) -> float:
    """Area dominated by ``points`` (both objectives maximized) above ``reference``."""
    p = points[(points > reference).all(axis=1)]
    if len(p) == 0:
        return 0.0
    p = p[np.argsort(-p[:, 0])]
    area, best_y = 0.0, reference[1]
    for x, y in p:
        if y > best_y:
            area += (x - reference[0]) * (y - best_y)
            best_y = y
    return float(area)


def default_acquisition(candidates, acquisition: str | None = None) -> str:
    """``acquisition``, or the default: expected improvement inside a space (thousands of
    Sobol points, where a batch must spread out), exploitation of the updated belief among a
    lab's candidates (chosen on held-out campaigns whose pools are not the ones scored:
    benchmarks/active_learning.py, benchmarks/RESULTS.md)."""
    if acquisition is not None:
        return acquisition
    return "ei" if isinstance(candidates, SearchSpace) else "exploit"


def acquisition_values(
    beliefs: list[Belief], acquisition: str, best: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    b = beliefs[0]
    if acquisition == "ei":
        return expected_improvement(b, best[0])
    if acquisition == "ucb":
        return b.quantile(UCB_LEVEL)
    if acquisition == "thompson":
        return b.quantile(rng.uniform(LEVELS[0], LEVELS[-1], size=len(b.mean)))
    if acquisition == "explore":
        return b.quantile(0.95) - b.quantile(0.05)
    if acquisition == "exploit":
        return b.mean.copy()
    raise UserError(f"unknown acquisition {acquisition!r} (one of {', '.join(ACQUISITIONS)})")


def select_batch(X: np.ndarray, acq: np.ndarray, n: int, length: float) -> list[int]:
    """Greedy picks with local penalization: neighbours of a pick lose acquisition."""
    value = acq - np.nanmin(acq) + 1e-12
    chosen: list[int] = []
    for _ in range(min(n, len(X))):
        i = int(np.nanargmax(value))
        chosen.append(i)
        d2 = ((X - X[i]) ** 2).sum(axis=1)
        value = value * (1.0 - np.exp(-d2 / (2 * length**2)))
        value[chosen] = -np.inf
    return chosen


def select_pareto(
    points_opt: np.ndarray, front: np.ndarray, reference: np.ndarray, n: int
) -> tuple[list[int], np.ndarray]:
    """Greedy hypervolume improvement; each pick joins the front (kriging believer)."""
    chosen, gains = [], np.zeros(len(points_opt))
    current = front.copy()
    for _ in range(min(n, len(points_opt))):
        base = hypervolume_2d(current, reference)
        hvi = np.array([hypervolume_2d(np.vstack([current, p]), reference) - base for p in points_opt])
        hvi[chosen] = -np.inf
        i = int(np.argmax(hvi))
        chosen.append(i)
        gains[i] = hvi[i]
        current = np.vstack([current, points_opt[i]])
    return chosen, gains


def _objective_beliefs(pred: pd.DataFrame, objective: str, temperature_C: float | None) -> list[Belief]:
    """Beliefs from ``nce predict``'s table with the quantile columns at :data:`LEVELS`.

    log10 sigma at another temperature takes sigma25's distribution moved to its own point
    (the Arrhenius extrapolation's share of the uncertainty is not added); -Ea is maximized,
    so its quantiles are Ea's reversed."""
    s25 = pred[[quantile_column("log10_sigma25", q) for q in LEVELS]].to_numpy(dtype=float)
    ea = pred[[quantile_column("Ea_eV", q) for q in LEVELS]].to_numpy(dtype=float)
    centre = pred["log10_sigma25"].to_numpy(dtype=float)
    if temperature_C is not None:
        shift = pred["log10_sigma_T"].to_numpy(dtype=float) - centre
        centre, s25 = centre + shift, s25 + shift[:, None]
    sigma = Belief(centre, s25)
    neg_ea = Belief(-pred["Ea_eV"].to_numpy(dtype=float), -ea[:, ::-1])
    return {"sigma": [sigma], "ea": [neg_ea], "pareto": [sigma, neg_ea]}[objective]


def measured_observations(measured: pd.DataFrame, objective: str, temperature_C: float | None) -> list[np.ndarray]:
    """Measured objective values (larger is better) per measured row, NaN where missing."""
    T = 25.0 if temperature_C is None else temperature_C
    s25 = measured["log10_sigma25"].to_numpy(dtype=float)
    ea = measured["Ea_eV"].to_numpy(dtype=float)
    sigma = np.where(np.isfinite(ea), log10_sigma_at(s25, np.nan_to_num(ea), T), np.where(T == 25.0, s25, np.nan))
    return {"sigma": [sigma], "ea": [-ea], "pareto": [sigma, -ea]}[objective]


#: Columns that hold measurements: they belong in ``--measured``, not in a candidate list.
MEASUREMENT_COLUMNS = ("sigma_S_cm", "log10_sigma25", "Ea_eV", "temperature_C")
#: A candidate's row in its file: the header is line 1.
CANDIDATE_ROW = "candidate_row"


def read_candidates(path) -> pd.DataFrame:
    """The user's candidate list (CSV or Parquet, a ``composition`` column, optional route,
    state and heat treatment; other columns, e.g. a sample id, are carried to the output),
    every row checked: a bad row is a one-line error naming its line, never a dropped row."""
    frame = read_table_file(path)
    where = f"--candidates {path}"
    if "composition" not in frame.columns:
        raise UserError(f"{where}: required column 'composition' is missing")
    held = [c for c in MEASUREMENT_COLUMNS if c in frame.columns]
    if held:
        raise UserError(
            f"{where}: column {held[0]!r} holds measurements; give measured glasses with --measured "
            "(and a working temperature with --temperature-C)"
        )
    if frame.empty:
        raise UserError(f"{where}: no candidate rows")
    from nce.pipelines.predict import _row_errors

    frame = frame.reset_index(drop=True)
    _, errors, processing = _row_errors(frame)  # the rules nce predict applies to a row
    lines = list(range(2, len(frame) + 2))
    raise_first(errors, lines, where, UserError)
    out = frame.copy()
    for column in processing.columns:
        out[column] = processing[column]
    out.insert(0, CANDIDATE_ROW, lines)
    return out


def constrain_candidates(pool: pd.DataFrame, text: str | None) -> tuple[pd.DataFrame, int]:
    """The rows of :func:`read_candidates` that satisfy ``--constraint`` (mol % of the
    components as each row writes them, e.g. ``LiI <= 10``; a row written as one formula is
    100 % of it, and a component a row does not name is 0 %), and how many rows broke it."""
    from nce.data.composition import parse_composition
    from nce.pipelines.search_space import parse_constraints

    if text is None:
        return pool, 0
    written = [parse_composition(c) for c in pool["composition"]]
    mol = pd.DataFrame([p.components or {p.formula: 100.0} for p in written]).fillna(0.0)
    constraints = parse_constraints(text, tuple(mol.columns))
    ok = np.ones(len(pool), dtype=bool)
    for c in constraints:
        ok &= c.holds(mol.to_numpy(dtype=float))
    if not ok.any():
        raise UserError(f"no candidate row satisfies --constraint {text!r}")
    return pool[ok].reset_index(drop=True), int((~ok).sum())


def _key(frame: pd.DataFrame, elements: list[str]) -> pd.Series:
    """One experiment: atomic fractions (3 decimals), state and heat treatment (nearest degC)."""
    atoms = np.round(frame.reindex(columns=elements, fill_value=0.0).fillna(0.0).to_numpy(dtype=float), 3) + 0.0
    state = frame["state"].astype(str).to_numpy() if "state" in frame else np.full(len(frame), "glass")
    heat = (
        pd.to_numeric(frame["heat_treatment_C"], errors="coerce").round().to_numpy()
        if "heat_treatment_C" in frame
        else np.full(len(frame), np.nan)
    )
    return pd.Series(
        [a.tobytes().hex() + s + ("" if h != h else f"@{h:g}") for a, s, h in zip(atoms, state, heat)],
        index=frame.index,
    )


def _posterior_columns(
    out: pd.DataFrame, beliefs: list[Belief], objective: str, temperature_C, chosen: list[int]
) -> None:
    """Report the belief updated by the user's measurements, not NCE's prior."""
    kinds = {"sigma": ["sigma"], "ea": ["ea"], "pareto": ["sigma", "ea"]}[objective]
    for b, kind in zip(beliefs, kinds):
        m, lo, hi = b.mean[chosen], b.quantile(0.05)[chosen], b.quantile(0.95)[chosen]
        if kind == "ea":
            out["Ea_eV"], out["Ea_eV_lo"], out["Ea_eV_hi"] = -m, np.maximum(-hi, 0.0), -lo
        elif temperature_C is not None:
            out["log10_sigma_T"] = m
        else:
            out["log10_sigma25"], out["log10_sigma25_lo"], out["log10_sigma25_hi"] = m, lo, np.minimum(hi, 0.0)


def suggest(
    model,
    candidates: SearchSpace | pd.DataFrame,
    n: int = 8,
    acquisition: str | None = None,
    objective: str = "sigma",
    temperature_C: float | None = None,
    measured: pd.DataFrame | None = None,
    n_candidates: int = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """The next ``n`` experiments, best first, with predictions, acquisition and reason.

    ``candidates``: a :class:`SearchSpace` (``n_candidates`` Sobol points inside it) or the
    rows of :func:`read_candidates` (the chosen rows keep the file's columns and line).
    ``measured`` (:func:`nce.data.extra.load_extra`'s rows) updates the belief; a candidate
    measured already (same composition, state and heat treatment) is never proposed again."""
    from nce.pipelines.predict import predict_frame

    if objective not in OBJECTIVES:
        raise UserError(f"unknown objective {objective!r} (one of {', '.join(OBJECTIVES)})")
    acquisition = default_acquisition(candidates, acquisition)
    if acquisition not in ACQUISITIONS:
        raise UserError(f"unknown acquisition {acquisition!r} (one of {', '.join(ACQUISITIONS)})")
    if n < 1:
        raise UserError("--n must be at least 1")
    rng = np.random.default_rng(seed)
    in_space = isinstance(candidates, SearchSpace)
    cand = candidates.sample(n_candidates, seed=seed) if in_space else candidates.reset_index(drop=True)
    parsed = parse_many(cand["composition"].tolist())
    atoms = pd.DataFrame([p.atoms for p in parsed]).fillna(0.0)
    elements = sorted(atoms.columns)
    cand = pd.concat([cand.drop(columns=elements, errors="ignore"), atoms[elements]], axis=1)
    n_offered = len(cand)
    if measured is not None and len(measured):
        seen = set(_key(measured, elements))
        cand = cand[~_key(cand, elements).isin(seen).to_numpy()].reset_index(drop=True)
        if cand.empty:
            raise UserError(f"every candidate {'of the space' if in_space else 'row'} has been measured already")
    kept = [c for c in cand.columns if c not in elements and (not in_space or c in ("composition", *PROCESSING))]
    query = cand[kept].copy()
    if temperature_C is not None:
        query["temperature_C"] = temperature_C
    pred = predict_frame(model, query, levels=LEVELS)
    prior = _objective_beliefs(pred, objective, temperature_C)
    X = _coordinates(cand, elements)
    noise = [MEASUREMENT_SD, EA_MEASUREMENT_SD] if objective != "ea" else [EA_MEASUREMENT_SD]
    X_meas, residuals, observed = np.empty((0, X.shape[1])), [np.empty(0) for _ in prior], None
    if measured is not None and len(measured):
        X_meas = _coordinates(
            measured.reindex(columns=[*elements, *[c for c in ("state", "heat_treatment_C") if c in cand]]).fillna(
                {e: 0.0 for e in elements}
            ),
            elements,
        )
        meas_pred = predict_frame(
            model,
            measured[["composition", *[c for c in ("route", "state", "heat_treatment_C") if c in measured]]].assign(
                **({"temperature_C": temperature_C} if temperature_C is not None else {})
            ),
            levels=LEVELS,
        )
        observed = measured_observations(measured, objective, temperature_C)
        prior_meas = _objective_beliefs(meas_pred, objective, temperature_C)
        residuals = [obs - pm.mean for obs, pm in zip(observed, prior_meas)]
    beliefs = [residual_update(b, X, X_meas, r, s) for b, r, s in zip(prior, residuals, noise)]
    best = np.array([np.nanmax(b.mean) for b in beliefs])
    if observed is not None:
        best = np.array(
            [np.nanmax(obs) if np.isfinite(obs).any() else np.nanmax(b.mean) for obs, b in zip(observed, beliefs)]
        )
    length = 0.15 * float(np.sqrt(((X.max(axis=0) - X.min(axis=0)) ** 2).sum()) or 1.0)
    if objective == "pareto":
        opt = np.column_stack([b.quantile(UCB_LEVEL) for b in beliefs])
        means = np.column_stack([b.mean for b in beliefs])
        if measured is not None and len(measured) and np.isfinite(np.column_stack(observed)).all(axis=1).any():
            obs = np.column_stack(observed)
            front = obs[np.isfinite(obs).all(axis=1)]
        else:
            front = means
        reference = np.minimum(means.min(axis=0), front.min(axis=0)) - np.array([1.0, 0.1])
        chosen, gains = select_pareto(opt, front, reference, n)
        acq = gains
    else:
        acq = acquisition_values(beliefs, acquisition, best, rng)
        if acquisition == "exploit":  # the best expected values as they come: a pool's best are often neighbours
            chosen = [int(i) for i in np.argsort(-acq, kind="stable")[:n]]
        else:
            chosen = select_batch(X, acq, n, length)
    top = np.quantile(beliefs[0].mean, 0.9)
    out = pred.iloc[chosen].copy()
    out.attrs.update(candidates=n_offered, measured_candidates=n_offered - len(cand))
    out["acquisition"] = acq[chosen]
    b0 = beliefs[0]
    if observed is not None:
        _posterior_columns(out, beliefs, objective, temperature_C, chosen)
    lo0, hi0 = b0.quantile(0.05), b0.quantile(0.95)
    out["reason"] = [
        "explore: chosen for its uncertainty"
        if acquisition == "explore" and objective != "pareto"
        else (
            "exploit: predicted in the top 10 % of the candidates"
            if b0.mean[i] >= top
            else "exploit: the best expected value left"
            if acquisition == "exploit" and objective != "pareto"
            else f"explore: 90 % interval [{lo0[i]:.2f}, {hi0[i]:.2f}] around a mid-ranked prediction {b0.mean[i]:.2f}"
        )
        for i in chosen
    ]
    own = [c for c in kept if c not in ("composition", *PROCESSING)]  # a candidate file's other columns
    cols = [
        *own,
        "composition",
        "normalized_composition",
        *[c for c in (*PROCESSING, "temperature_C") if c in out],
        "log10_sigma25",
        "log10_sigma25_lo",
        "log10_sigma25_hi",
        "Ea_eV",
        "Ea_eV_lo",
        "Ea_eV_hi",
        *(["log10_sigma_T"] if temperature_C is not None else []),
        "acquisition",
        "reason",
        "novelty",
        "in_domain",
        "warning",
    ]
    table = out[cols].reset_index(drop=True)
    table.attrs = dict(out.attrs)
    return table


def run_suggest(
    candidates: SearchSpace | Path,
    n: int = 8,
    acquisition: str | None = None,
    objective: str = "sigma",
    temperature_C: float | None = None,
    measured_path=None,
    model_uri: str | None = None,
    seed: int = 0,
    on_step=lambda _: None,
    constraint: str | None = None,
) -> dict:
    """One suggestion round as an MLflow run: parameters, the suggestions, the measured rows
    and (``candidates`` a file) the candidate list with its SHA-256."""
    import hashlib
    import json
    import tempfile

    import mlflow

    from nce.data.extra import load_extra
    from nce.data.rows import check_option
    from nce.pipelines import tracking
    from nce.pipelines.predict import load_model

    temperature_C = check_option(temperature_C, "--temperature-C", "temperature_C")  # NaN/inf: an error
    measured = None
    if measured_path is not None:
        measured = load_extra(Path(measured_path), source="measured").rows  # an NCEError names the bad row
    pool = None
    if isinstance(candidates, SearchSpace):
        space = candidates
        described = {
            "space": ",".join(f"{c}:{lo:g}-{hi:g}" for c, lo, hi in zip(space.components, space.lower, space.upper)),
            "constraints": "; ".join(c.text for c in space.constraints),
            "states": ",".join(space.states),
            "heat_treatment_C": str(space.heat_treatment_C or ""),
            "route": space.route or "",
        }
    else:
        pool, broken = constrain_candidates(read_candidates(candidates), constraint)  # one-line errors
        described = {
            "candidates": Path(candidates).name,
            "candidates_sha256": hashlib.sha256(Path(candidates).read_bytes()).hexdigest(),
            "constraints": constraint or "",
            "n_candidates_outside_constraints": broken,
        }
    acquisition = default_acquisition(candidates, acquisition)
    model = load_model(model_uri, on_step=on_step, register=True)
    on_step("predicting candidates and choosing a batch")
    table = suggest(
        model, candidates if pool is None else pool, n, acquisition, objective, temperature_C, measured, seed=seed
    )
    experiment_id = tracking.setup()
    with mlflow.start_run(experiment_id=experiment_id, run_name="suggest") as run:
        mlflow.log_params(
            {
                **described,
                "n_candidates": table.attrs["candidates"],
                "n_candidates_measured": table.attrs["measured_candidates"],
                "n": n,
                "acquisition": acquisition,
                "objective": objective,
                "temperature_C": temperature_C,
                "seed": seed,
                "n_measured": 0 if measured is None else len(measured),
            }
        )
        mlflow.set_tags(
            {
                "model_uri": model_uri or "models:/nce-conductivity@champion",
                "model_data_hash": getattr(model, "data_hash_", ""),
            }
        )
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            table.to_csv(tmp / "suggestions.csv", index=False)
            if measured is not None:
                measured.to_csv(tmp / "measured.csv", index=False)
            if pool is not None:
                pool.to_csv(tmp / "candidates.csv", index=False)
            (tmp / "model.json").write_text(
                json.dumps(
                    {
                        "model_uri": model_uri or "models:/nce-conductivity@champion",
                        "data_hash": getattr(model, "data_hash_", ""),
                        "measurement_sd": {"log10_sigma": MEASUREMENT_SD, "Ea_eV": EA_MEASUREMENT_SD},
                    }
                )
            )
            mlflow.log_artifacts(str(tmp), artifact_path="suggest")
    return {
        "run_id": run.info.run_id,
        "table": table,
        "acquisition": acquisition,
        "outside_constraints": 0 if pool is None else broken,
        "candidates": table.attrs["candidates"],
        "measured_candidates": table.attrs["measured_candidates"],
    }
