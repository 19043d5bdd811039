"""Predict for candidate compositions: parse, validate, featurize, predict, flag the domain.

Rows that cannot be used keep their input columns, get the reason in ``error`` and no
numbers; they are never dropped. Output columns follow DESIGN.md's predict contract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nce.data.schema import ROUTES, STATES
from nce.featurize.composition import parse_many

OUTPUT_COLUMNS = [
    "normalized_composition",
    "log10_sigma25", "log10_sigma25_lo", "log10_sigma25_hi",
    "Ea_eV", "Ea_eV_lo", "Ea_eV_hi",
    "log10_sigma_T",
    "Tg_K", "fragility_m", "nbo_fraction",
    "in_domain", "error",
]
PROCESSING = ("route", "state", "heat_treatment_C", "temperature_C")


def _row_errors(frame: pd.DataFrame) -> tuple[list, list[str]]:
    """Parsed compositions and one error text per row ('' when the row is usable)."""
    texts = frame["composition"].tolist()
    parsed = parse_many(texts)
    errors = [str(p) if isinstance(p, Exception) else "" for p in parsed]
    for column, vocabulary in (("route", ROUTES), ("state", STATES)):
        if column in frame:
            for i, value in enumerate(frame[column].tolist()):
                if errors[i] or value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
                    continue
                if str(value) not in vocabulary:
                    errors[i] = f"unknown {column} {value!r} (one of {', '.join(vocabulary)})"
    for column, low in (("temperature_C", -273.15), ("heat_treatment_C", -273.15)):
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            raw = frame[column].tolist()
            for i, (v, r) in enumerate(zip(values, raw)):
                if errors[i]:
                    continue
                missing = r is None or (isinstance(r, float) and np.isnan(r)) or (isinstance(r, str) and not r.strip())
                if missing:
                    continue
                if not np.isfinite(v):
                    errors[i] = f"{column} {r!r} is not a number"
                elif v <= low:
                    errors[i] = f"{column} {v:g} is at or below absolute zero"
                elif v > 3000:
                    errors[i] = f"{column} {v:g} is above 3000 degC"
    return parsed, errors


def _model_rows(frame: pd.DataFrame, parsed: list, good: np.ndarray) -> pd.DataFrame:
    """Atomic fractions plus processing columns of the usable rows, indexed by input row."""
    index = np.flatnonzero(good)
    atoms = pd.DataFrame([parsed[i].atoms for i in index]).fillna(0.0)
    rows = pd.concat([atoms, frame.loc[good, [c for c in PROCESSING if c in frame]].reset_index(drop=True)], axis=1)
    for col in ("heat_treatment_C", "temperature_C"):
        if col in rows:
            rows[col] = pd.to_numeric(rows[col], errors="coerce")
    rows.index = index
    return rows


def neighbors_frame(model, frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """The k nearest measured training glasses of every usable row."""
    frame = frame.reset_index(drop=True)
    parsed, errors = _row_errors(frame)
    good = np.array([not e for e in errors])
    if not good.any():
        return pd.DataFrame()
    return model.neighbors(_model_rows(frame, parsed, good), k)


def predict_frame(model, frame: pd.DataFrame) -> pd.DataFrame:
    """Input columns kept, DESIGN.md output columns added; bad rows carry ``error``."""
    if "composition" not in frame.columns:
        raise ValueError("input needs a 'composition' column")
    frame = frame.reset_index(drop=True)
    parsed, errors = _row_errors(frame)
    out = frame.copy()
    for col in OUTPUT_COLUMNS:
        out[col] = np.nan
    out["normalized_composition"] = [p.normalized if not e else "" for p, e in zip(parsed, errors)]
    out["error"] = errors
    out["in_domain"] = False
    good = np.array([not e for e in errors])
    if good.any():
        pred = model.predict(_model_rows(frame, parsed, good))
        for col in pred.columns:
            out.loc[good, col] = pred[col].to_numpy()
    out["in_domain"] = out["in_domain"].astype(bool)
    if "temperature_C" not in frame:
        out = out.drop(columns=["log10_sigma_T"])
    return out


def load_model(model: str | None = None, on_step=lambda _: None, allow_train: bool = True):
    """An NCEModel from a folder, any MLflow model URI, or the registered champion.

    With no champion yet, the default model is trained on the embedded data, registered
    and used (the first use on a fresh machine).
    """
    from pathlib import Path

    from nce.models.nce_model import ModelFileError, NCEModel
    from nce.pipelines.errors import UserError

    if model is not None and Path(model).exists():
        path = Path(model)
        if (path / "model.json").is_file():
            return _load_checked(path)
        if (path / "artifacts" / "nce_model" / "model.json").is_file():
            return _load_checked(path / "artifacts" / "nce_model")
        raise UserError(f"{model} holds no NCE model (no model.json)")
    import mlflow

    from nce.pipelines import tracking

    tracking.setup()
    uri = model or f"models:/{tracking.REGISTERED_MODEL}@{tracking.CHAMPION_ALIAS}"
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except Exception as exc:  # MLflow raises several types for a missing model
        if model is not None or not allow_train:
            raise UserError(f"cannot load model {uri}: {str(exc).splitlines()[0]}") from None
        on_step("no trained model yet: training the default model on the embedded data (once)")
        from nce.pipelines.train import train

        result = train(cross_validate=False, on_step=on_step)
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=result["model_uri"]))
    bundle = local / "artifacts" / "nce_model"
    if not bundle.is_dir():
        raise UserError(f"{uri} is not an NCE model")
    try:
        return NCEModel.load(bundle)
    except ModelFileError as exc:
        raise UserError(str(exc)) from None


def _load_checked(path):
    from nce.models.nce_model import ModelFileError, NCEModel
    from nce.pipelines.errors import UserError

    try:
        return NCEModel.load(path)
    except ModelFileError as exc:
        raise UserError(str(exc)) from None


def read_input(path) -> pd.DataFrame:
    """A whole CSV or Parquet input with a ``composition`` column (see :func:`iter_input`)."""
    chunks = list(iter_input(path, chunk_rows=1_000_000))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame({"composition": []})


def write_output(frame: pd.DataFrame, path) -> None:
    """Write CSV or Parquet atomically: a temporary file in the same folder, then rename."""
    import os
    import tempfile
    from pathlib import Path

    from nce.pipelines.errors import UserError

    path = Path(path)
    if not path.parent.exists():
        raise UserError(f"output folder does not exist: {path.parent}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def iter_input(path, chunk_rows: int):
    """Chunks of a CSV or Parquet input, each with a ``composition`` column."""
    from pathlib import Path

    from nce.pipelines.errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"input file not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            chunks = (b.to_pandas() for b in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows))
        else:
            chunks = pd.read_csv(path, dtype={"composition": str}, chunksize=chunk_rows)
        for chunk in chunks:
            if "composition" not in chunk.columns:
                raise UserError(f"{path}: required column 'composition' is missing (columns: {', '.join(map(str, chunk.columns))})")
            chunk["composition"] = chunk["composition"].astype(object).where(chunk["composition"].notna(), "")
            yield chunk
    except UserError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for broken files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"cannot read {path}: {first}") from None


def predict_file(model, input_path, output_path, overrides: dict | None = None, strict: bool = False,
                 chunk_rows: int = 100_000, on_chunk=lambda rows: None) -> dict:
    """Stream ``input_path`` through the model in chunks into ``output_path`` (atomic).

    Memory stays bounded by the chunk size; the output appears only when every chunk has
    been written, and with ``strict`` the first unusable row stops the run with nothing written.
    """
    import os
    import tempfile
    from pathlib import Path

    from nce.pipelines.errors import UserError

    output_path = Path(output_path)
    if not output_path.parent.exists():
        raise UserError(f"output folder does not exist: {output_path.parent}")
    parquet = output_path.suffix.lower() in (".parquet", ".pq")
    fd, tmp = tempfile.mkstemp(dir=output_path.parent, prefix=f".{output_path.name}.", suffix=".tmp")
    os.close(fd)
    writer, schema, n_rows, n_bad, offset = None, None, 0, 0, 0
    try:
        for chunk in iter_input(input_path, chunk_rows):
            for column, value in (overrides or {}).items():
                chunk[column] = value
            result = predict_frame(model, chunk)
            bad = np.flatnonzero(result["error"].to_numpy() != "")
            if strict and bad.size:
                raise UserError(f"row {offset + bad[0] + 1}: {result['error'].iloc[bad[0]]} (nothing written)")
            if parquet:
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(result, preserve_index=False, schema=schema)
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(tmp, schema)
                writer.write_table(table)
            else:
                result.to_csv(tmp, mode="a", header=offset == 0, index=False)
            offset += len(chunk)
            n_rows += len(result)
            n_bad += bad.size
            on_chunk(n_rows)
        if writer is not None:
            writer.close()
            writer = None
        elif parquet:
            raise UserError(f"{input_path} holds no rows")
        os.replace(tmp, output_path)
    except BaseException:
        if writer is not None:
            writer.close()
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"rows": n_rows, "errors": n_bad}
