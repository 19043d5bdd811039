"""``nce explain``: SHAP contributions of the features to one prediction.

TreeSHAP (Lundberg et al. 2020, Nat. Mach. Intell. 2, 56) of the point models, computed by
xgboost itself (``Booster.predict(DMatrix, pred_contribs=True)``): for each target the
contributions plus the base value sum exactly to the point model's output, so the
waterfall ends at the number ``nce predict`` prints (before the Ea clip at 0 and, for
processed rows, before the processing offset; ``explain`` uses melt-quenched glasses).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nce.pipelines.errors import UserError

TARGETS = ("log10_sigma25", "Ea_eV")
N_STEPS = 3


def shap_values(model, target: str, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """TreeSHAP contributions (rows x features) and the base value per row, for ``target``."""
    import xgboost as xgb

    regressor = model.models_[target]
    if getattr(regressor, "backend", None) != "xgboost":
        raise UserError(
            f"TreeSHAP needs the xgboost model family; this model's {target} regressor is "
            f"{type(regressor).__name__}(backend={getattr(regressor, 'backend', '?')!r})"
        )
    booster = regressor.point_model_.get_booster()
    out = booster.predict(xgb.DMatrix(X.to_numpy(dtype=np.float32)), pred_contribs=True)
    return out[:, :-1].astype(float), out[:, -1].astype(float)


def explain(model, composition: str) -> dict:
    """Prediction, features and SHAP contributions of one composition, for both targets."""
    from nce.pipelines.predict import _model_rows, _row_errors

    frame = pd.DataFrame({"composition": [composition]})
    parsed, errors, processing = _row_errors(frame)
    if errors[0]:
        raise UserError(errors[0])
    rows = _model_rows(parsed, np.array([True]), processing)
    X = model.features(rows)
    pred = model.predict_table(rows, features=X)
    out = {
        "composition": composition,
        "normalized_composition": parsed[0].normalized,
        "in_domain": bool(pred["in_domain"].iloc[0]),
        "features": X.iloc[0],
        "targets": {},
    }
    for target in TARGETS:
        contribs, base = shap_values(model, target, X)
        series = pd.Series(contribs[0], index=model.feature_names_)
        out["targets"][target] = {
            "base": float(base[0]),
            "contribs": series,
            "point": float(base[0] + contribs[0].sum()),
            "prediction": float(pred[target].iloc[0]),
            "lo": float(pred[f"{target}_lo"].iloc[0]),
            "hi": float(pred[f"{target}_hi"].iloc[0]),
        }
    return out


def top_table(result: dict, target: str, top: int = 10) -> pd.DataFrame:
    """The ``top`` features by |SHAP| for one target: value, contribution, running sum."""
    t = result["targets"][target]
    c = t["contribs"]
    idx = c.abs().sort_values(ascending=False).index[:top]
    return pd.DataFrame(
        {"feature": idx, "value": result["features"][idx].to_numpy(dtype=float), "shap": c[idx].to_numpy()}
    )


def run_explain(
    composition: str,
    model_uri: str | None = None,
    output: Path | None = None,
    top: int = 12,
    on_step=lambda _msg, _advance=1: None,
) -> dict:
    """Explain one composition; ``on_step(message, advance)`` starts each of :data:`N_STEPS` steps."""
    from nce.pipelines import figures
    from nce.pipelines.predict import load_model

    if top < 1:
        raise UserError("--top must be at least 1")
    if output is not None and not Path(output).parent.exists():
        raise UserError(f"output folder does not exist: {Path(output).parent}")
    on_step("loading the model")
    model = load_model(model_uri, on_step=lambda msg: on_step(msg, 0))
    on_step("TreeSHAP contributions")
    result = explain(model, composition)
    if output is not None:
        on_step("drawing the waterfall")
        panels = [
            {
                "target": t,
                "base": v["base"],
                "contribs": v["contribs"],
                "values": result["features"].to_dict(),
                "title": f"{result['normalized_composition']}: SHAP contributions (TreeSHAP of the point models)",
            }
            for t, v in result["targets"].items()
        ]
        figures.waterfall(panels, output, top=top)
        result["output"] = Path(output)
    return result
