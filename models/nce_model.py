"""The unit NCE evaluates, saves and serves: featurizer + two interval models + domain.

``NCEModel.fit`` featurizes the training glasses (sub-model features out of fold), fits a
:class:`~nce.models.conformal.ConformalGBMRegressor` for log10 sigma25 and one for Ea, and an
:class:`~nce.models.domain.ApplicabilityDomain` on the same features. A saved model is a
folder: ``model.json`` (package version, feature list, data hash, training settings,
conformal margins), xgboost UBJ files and the featurizer's own JSON/UBJ files. Nothing is
unpickled; a file whose SHA-256 does not match ``model.json`` is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from nce.data.arrhenius import log10_sigma_at
from nce.data.curation import LOG10_SIGMA25_RANGE
from nce.data.schema import DEFAULT_ROUTE, DEFAULT_STATE, ROUTES, STATES
from nce.featurize.processing import vocabulary_column
from nce.models.conformal import ConformalGBMRegressor
from nce.models.domain import ApplicabilityDomain
from nce.models.processing import ProcessingOffsetModel, is_default_processing, offset_features, offset_training_rows

FORMAT = "nce.conductivity_model"
FORMAT_VERSION = 1
TARGETS = {"log10_sigma25": "sigma", "Ea_eV": "ea"}


from nce.models.property_models import ModelFileError  # noqa: E402  one error for every saved-model file

#: Key of model.json's own checksum: SHA-256 of the rest of model.json (sorted-key JSON).
SELF_CHECKSUM = "model_json_sha256"


def _meta_digest(meta: dict) -> str:
    body = {k: v for k, v in meta.items() if k != SELF_CHECKSUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _package_version() -> str:
    from nce import __version__

    return __version__


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def measurement_features(frame: pd.DataFrame) -> pd.DataFrame:
    """How sigma25 was derived, as features; a prediction asks for an interpolated value.

    Extrapolated and single-20-degC values differ systematically from interpolated ones
    (benchmarks/RESULTS.md), so the model learns the offset instead of absorbing it.
    """
    source = frame["sigma25_source"].astype(str).to_numpy() if "sigma25_source" in frame else np.full(len(frame), "")
    return pd.DataFrame(
        {"sigma25_extrapolated": (source == "extrapolated").astype(float), "sigma25_from_20C": (source == "from_20C").astype(float)},
        index=frame.index,
    )


def processing_combination(frame: pd.DataFrame) -> np.ndarray:
    """``route/state`` of each row (defaults where missing): the unit of the processing domain."""
    route = vocabulary_column(frame, "route", ROUTES, DEFAULT_ROUTE)
    state = vocabulary_column(frame, "state", STATES, DEFAULT_STATE)
    return np.array([f"{r}/{s}" for r, s in zip(route, state)], dtype=object)


class NCEModel:
    """Composition + processing -> log10 sigma25 and Ea with 90 % intervals and a domain flag.

    Parameters
    ----------
    featurizer: an unfitted :class:`nce.featurize.transformer.GlassFeaturizer` (or any
        transformer with ``fit_transform(X, groups=)``, ``transform``, ``save``, ``load``).
    model_params: settings of the two :class:`ConformalGBMRegressor` (shared).
    random_state: seed for every model.
    """

    def __init__(self, featurizer, model_params: dict | None = None, random_state: int = 0):
        self.featurizer = featurizer
        self.model_params = model_params
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame, groups=None, data_hash: str = ""):
        groups = frame["KOD"].to_numpy() if groups is None else np.asarray(groups)
        X = self.featurizer.fit_transform(frame, groups=groups)
        X = pd.concat([X.set_axis(frame.index), measurement_features(frame)], axis=1)
        self.feature_names_ = list(X.columns)
        self.train_features_ = X  # out-of-fold sub-model features of the training rows (not saved)
        Xv = X.to_numpy(dtype=np.float32)
        params = {**(self.model_params or {}), "random_state": self.random_state}
        self.models_ = {}
        for target in TARGETS:
            y = frame[target].to_numpy(dtype=float)
            ok = np.isfinite(y)
            self.models_[target] = ConformalGBMRegressor(**params).fit(Xv[ok], y[ok], groups=groups[ok])
        self.domain_ = ApplicabilityDomain(random_state=self.random_state).fit(Xv, groups=groups)
        self.training_reference_ = frame[[c for c in ("KOD", "GLASNO", "first_author", "year", "composition", "log10_sigma25", "Ea_eV", "source") if c in frame]].reset_index(drop=True)
        self.data_hash_ = data_hash
        self.n_train_ = len(frame)
        self.processing_ = None
        return self

    def glass_predictions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The melt-quenched-glass model's predictions and, at each row's ``temperature_C``,
        its log10 sigma: the baseline the processing offsets are measured from."""
        X = self.features(frame)
        out = self.predict(frame, features=X, processing=False)
        T = pd.to_numeric(frame["temperature_C"], errors="coerce").to_numpy(dtype=float) if "temperature_C" in frame else np.full(len(frame), 25.0)
        out["log10_sigma_T"] = log10_sigma_at(out["log10_sigma25"], out["Ea_eV"], T)
        out["anion_S_share"] = X["anion_S_share"].to_numpy()
        return out

    def fit_processing(self, rows: pd.DataFrame, method: str = "ridge"):
        """Learn processing offsets from processing-labelled observations (the literature
        set and a user's rows): measured log10 sigma(T) minus the glass model's at T, on the
        rows :func:`~nce.models.processing.offset_training_rows` keeps."""
        glass = self.glass_predictions(rows)
        X = offset_features(rows, glass["Tg_K"], glass["anion_S_share"])
        y = rows["log10_sigma_T"].to_numpy(dtype=float) - glass["log10_sigma_T"].to_numpy()
        keep = offset_training_rows(rows, glass["in_domain"])
        self.processing_ = ProcessingOffsetModel(method).fit(X[keep], y[keep], route_state=processing_combination(rows)[keep])
        return self

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        X = self.featurizer.transform(frame).set_axis(frame.index)
        return pd.concat([X, measurement_features(frame.drop(columns="sigma25_source", errors="ignore"))], axis=1)[self.feature_names_]

    def predict(self, frame: pd.DataFrame, features: pd.DataFrame | None = None, processing: bool = True) -> pd.DataFrame:
        """Output columns of DESIGN.md's predict contract (numbers only; no parsing here).

        Rows made other than as a melt-quenched glass get the processing offset (when the
        model has one) on log10 sigma, a wider interval and the processing domain rule."""
        X = self.features(frame) if features is None else features
        Xv = X.to_numpy(dtype=np.float32)
        out = pd.DataFrame(index=frame.index)
        for target in TARGETS:
            model = self.models_[target]
            out[target] = model.predict(Xv)
            out[f"{target}_lo"], out[f"{target}_hi"] = model.predict_interval(Xv)
        out["Ea_eV"] = out["Ea_eV"].clip(lower=0.0)
        out["Ea_eV_lo"] = out["Ea_eV_lo"].clip(lower=0.0)
        out["in_domain"] = self.domain_.in_domain(Xv)
        if processing and getattr(self, "processing_", None) is not None:
            self._apply_processing(frame, X, out)
        # no solid conducts ions above 1 S/cm at 25 degC (the curation's range): a wide interval stops there
        for col in ("log10_sigma25", "log10_sigma25_hi"):
            out[col] = out[col].clip(upper=LOG10_SIGMA25_RANGE[1])
        if "temperature_C" in frame:
            T = pd.to_numeric(frame["temperature_C"], errors="coerce").to_numpy(dtype=float)
            out["log10_sigma_T"] = log10_sigma_at(out["log10_sigma25"], out["Ea_eV"], T)
        for col in ("Tg_K", "fragility_m", "nbo_fraction"):
            out[col] = X[col].to_numpy() if col in X else np.nan
        return out[[c for c in out.columns if c != "in_domain"] + ["in_domain"]]

    def _apply_processing(self, frame: pd.DataFrame, X: pd.DataFrame, out: pd.DataFrame) -> None:
        feats = offset_features(frame, X["Tg_K"].to_numpy(), X["anion_S_share"].to_numpy())
        processed = ~is_default_processing(feats)
        if not processed.any():
            return
        rows = np.flatnonzero(processed)
        model = self.processing_
        glass, lo, hi = (out[c].to_numpy()[rows] for c in ("log10_sigma25", "log10_sigma25_lo", "log10_sigma25_hi"))
        col = out.columns.get_loc
        for name, values in zip(("log10_sigma25", "log10_sigma25_lo", "log10_sigma25_hi"),
                                model.processed(feats.iloc[rows], glass, glass - lo, hi - glass)):
            out.iloc[rows, col(name)] = values
        known = model.in_domain(processing_combination(frame.iloc[rows]))
        out.iloc[rows, col("in_domain")] = out["in_domain"].to_numpy()[rows] & known

    def neighbors(self, frame: pd.DataFrame, k: int) -> pd.DataFrame:
        """The k nearest measured training glasses of each row, with their values and sources."""
        dist, idx = self.domain_.kneighbors(self.features(frame).to_numpy(dtype=np.float32), k)
        rows = []
        for i, (d_row, i_row) in enumerate(zip(dist, idx)):
            for rank, (d, j) in enumerate(zip(d_row, i_row), start=1):
                rows.append({"query_row": frame.index[i], "rank": rank, "distance": float(d), **self.training_reference_.iloc[j].to_dict()})
        return pd.DataFrame(rows)

    # -- persistence ---------------------------------------------------------------------
    def save(self, directory) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.featurizer.save(directory / "featurizer")
        for target, name in TARGETS.items():
            self.models_[target].save(directory, name)
        self.domain_.save(directory / "domain")
        if getattr(self, "processing_", None) is not None:
            self.processing_.save(directory / "processing.json")
        self.training_reference_.to_csv(directory / "training_reference.csv", index=False)
        files = sorted(p for p in directory.rglob("*") if p.is_file() and p != directory / "model.json")
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "nce_version": _package_version(),
            "featurizer_class": f"{type(self.featurizer).__module__}.{type(self.featurizer).__name__}",
            "params": {"model_params": self.model_params, "random_state": self.random_state},
            "feature_names": self.feature_names_,
            "data_hash": self.data_hash_,
            "n_train": self.n_train_,
            "margins": {t: self.models_[t].margin_ for t in TARGETS},
            "files": {str(p.relative_to(directory)): _sha256(p) for p in files},
        }
        meta[SELF_CHECKSUM] = _meta_digest(meta)
        tmp = directory / "model.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1))
        tmp.replace(directory / "model.json")  # model.json last and whole: it vouches for the rest
        return directory

    @classmethod
    def load(cls, directory, data_hash: str | None = None) -> "NCEModel":
        """Rebuild a model written by :meth:`save`; nothing is unpickled.

        Args:
            directory: the model folder.
            data_hash: the training-data hash the caller expects (e.g. the MLflow run's
                ``data_hash`` tag); a model trained on other data is refused.

        Raises:
            ModelFileError: model.json missing, truncated or edited (its own SHA-256), a file
                missing or altered (SHA-256 in model.json), another nce version or format, a
                feature list this code does not compute, or another training-data hash.
        """
        directory = Path(directory)
        path = directory / "model.json"
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            raise ModelFileError(f"no model.json in {directory}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{path} is not valid JSON (truncated or altered?): {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise ModelFileError(f"{directory} is not an NCE conductivity model of format {FORMAT_VERSION}")
        if meta.get(SELF_CHECKSUM) != _meta_digest(meta):
            raise ModelFileError(f"{path} is altered or incomplete (its checksum does not match); retrain or restore the model")
        if meta.get("nce_version") != _package_version():
            raise ModelFileError(f"model was saved by nce {meta.get('nce_version')}, this is nce {_package_version()}; retrain with `nce train`")
        if data_hash is not None and meta.get("data_hash") != data_hash:
            raise ModelFileError(f"{directory} was trained on data {str(meta.get('data_hash'))[:12]}, not on the expected "
                                 f"{data_hash[:12]} (a model file from another run?)")
        try:
            for rel, digest in meta["files"].items():
                file = directory / rel
                if not file.is_file() or _sha256(file) != digest:
                    raise ModelFileError(f"model file {rel} is missing or altered (checksum mismatch)")
            module, _, name = meta["featurizer_class"].rpartition(".")
            if not module.startswith("nce."):
                raise ModelFileError(f"refusing featurizer class {meta['featurizer_class']!r} outside nce")
            featurizer_cls = getattr(__import__(module, fromlist=[name]), name)
            self = cls(featurizer_cls.load(directory / "featurizer"), **meta["params"])
            self.feature_names_ = [str(c) for c in meta["feature_names"]]
            expected = [*map(str, self.featurizer.get_feature_names_out()), *measurement_features(pd.DataFrame()).columns]
            if self.feature_names_ != expected:
                diff = sorted(set(self.feature_names_) ^ set(expected))[:5]
                raise ModelFileError(f"{directory}: the model's feature list does not match this nce's features "
                                     f"(first differences {diff!r}, order may differ too); retrain with `nce train`")
            self.models_ = {t: ConformalGBMRegressor.load(directory, n) for t, n in TARGETS.items()}
            if any(m.n_features_in_ != len(expected) for m in self.models_.values()):
                raise ModelFileError(f"{directory}: boosters expect another number of features than the feature list")
            self.domain_ = ApplicabilityDomain.load(directory / "domain")
            processing = directory / "processing.json"
            self.processing_ = ProcessingOffsetModel.load(processing) if "processing.json" in meta["files"] else None
            self.training_reference_ = pd.read_csv(directory / "training_reference.csv")
            self.data_hash_ = meta["data_hash"]
            self.n_train_ = meta["n_train"]
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, ImportError, OSError) as exc:
            raise ModelFileError(f"{directory} cannot be loaded ({type(exc).__name__}: {str(exc)[:160]})") from None
        return self
