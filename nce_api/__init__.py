"""NCE: ionic conductivity of non-crystalline solid electrolytes.

The package root holds only the version and the public API; the work lives in
``nce.data`` -> ``nce.featurize`` -> ``nce.models`` -> ``nce.pipelines``.
"""

import os as _os
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

# libgomp threads spin while waiting; when other processes share the cores that made
# 2-thread xgboost fits up to 40x slower. Passive waiting avoids the collapse; it must be
# set before xgboost loads, which importing any nce module does first. A user's value wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    __version__ = _version("nce")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"


def predict(compositions, model: str | None = None, **processing):
    """Predict for compositions; returns the ``nce predict`` columns as a DataFrame.

    ``processing`` takes ``route``, ``state``, ``heat_treatment_C`` and ``temperature_C``,
    each a scalar for all rows or a sequence with one value per row. ``model`` is a model
    folder or MLflow URI (default: your registered champion, else the model shipped with the package).
    """
    import pandas as pd

    from nce.data.rows import RANGES, check_option
    from nce.pipelines.predict import load_model, predict_frame

    texts = [compositions] if isinstance(compositions, str) else list(compositions)
    frame = pd.DataFrame({"composition": texts})
    for key, value in processing.items():
        if key not in ("route", "state", "heat_treatment_C", "temperature_C"):
            raise TypeError(f"unknown processing argument {key!r}")
        if key in RANGES and pd.api.types.is_scalar(value):  # one value for all rows: NaN is an error
            value = check_option(value, key, key)
        frame[key] = value
    return predict_frame(load_model(model), frame)


__all__ = ["__version__", "predict"]
