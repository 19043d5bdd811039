"""Predict for candidate compositions: parse, validate, featurize, predict, flag the domain.

Rows that cannot be used keep their input columns, get the reason in ``error`` and no
numbers; they are never dropped. Output columns follow docs/design.md's predict contract.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nce.data.composition import parse_many
from nce.data.errors import one_line
from nce.data.files import atomic_path
from nce.data.rows import check_rows, missing
from nce.models import io
from nce.models.nce_model import NCEModel
from nce.pipelines.errors import UserError

OUTPUT_COLUMNS = [
    "normalized_composition",
    "log10_sigma25",
    "log10_sigma25_lo",
    "log10_sigma25_hi",
    "Ea_eV",
    "Ea_eV_lo",
    "Ea_eV_hi",
    "log10_sigma_T",
    "Tg_K",
    "fragility_m",
    "nbo_fraction",
    "novelty",
    "in_domain",
    "warning",
    "error",
]
PROCESSING = ("route", "state", "heat_treatment_C", "temperature_C")
#: RFC 4180 line ends: only then does Python's csv writer quote a cell holding a lone CR
#: (with "\n" it writes the CR bare and every reader splits the row in two).
CSV_LINE_END = "\r\n"


def _row_errors(frame: pd.DataFrame) -> tuple[list, list[str], pd.DataFrame]:
    """Parsed compositions, one error text per row ('' when the row is usable) and the
    canonical processing columns (:mod:`nce.data.rows`, the rules every table shares)."""
    parsed = parse_many(frame["composition"].tolist())
    checked = check_rows(frame, PROCESSING)
    errors = [
        one_line("; ".join(filter(None, (str(p) if isinstance(p, Exception) else "", e))))
        for p, e in zip(parsed, checked.errors)
    ]
    return parsed, errors, checked.values


def _model_rows(parsed: list, good: np.ndarray, processing: pd.DataFrame) -> pd.DataFrame:
    """Atomic fractions plus canonical processing columns of the usable rows, indexed by input row."""
    index = np.flatnonzero(good)
    atoms = pd.DataFrame([parsed[i].atoms for i in index]).fillna(0.0)
    rows = pd.concat([atoms, processing.loc[good].reset_index(drop=True)], axis=1)
    rows.index = index
    return rows


def neighbors_frame(model, frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """The k nearest measured training glasses of every usable row."""
    frame = frame.reset_index(drop=True)
    parsed, errors, processing = _row_errors(frame)
    good = np.array([not e for e in errors])
    if not good.any():
        return pd.DataFrame()
    return model.neighbors(_model_rows(parsed, good, processing), k)


def predict_frame(model, frame: pd.DataFrame, levels=()) -> pd.DataFrame:
    """Input columns kept, docs/design.md output columns added; bad rows carry ``error``;
    ``levels`` adds the predictive distribution's quantile columns (``nce suggest``)."""
    if "composition" not in frame.columns:
        raise UserError("input needs a 'composition' column")
    frame = frame.reset_index(drop=True)
    parsed, errors, processing = _row_errors(frame)
    out = frame.copy()
    for col in OUTPUT_COLUMNS:
        out[col] = np.nan
    out["normalized_composition"] = [p.normalized if not e else "" for p, e in zip(parsed, errors)]
    out["error"] = errors
    out["in_domain"] = False
    out["warning"] = ""
    good = np.array([not e for e in errors])
    if good.any():
        pred = model.predict_table(_model_rows(parsed, good, processing), levels=levels)
        added = [c for c in pred.columns if c not in out]  # the quantile columns, in one block
        out = pd.concat([out, pd.DataFrame(np.nan, index=out.index, columns=added)], axis=1)
        for col in pred.columns:
            out.loc[good, col] = pred[col].to_numpy()
    out["in_domain"] = out["in_domain"].astype(bool)
    if "temperature_C" not in frame:
        out = out.drop(columns=["log10_sigma_T"])
    return out


def load_model(model: str | None = None, on_step=lambda _: None, register: bool = False):
    """An NCEModel from a folder, any MLflow model URI, or the default.

    With no ``model``: the champion of the MLflow registry when a model of the user's holds
    the alias (:func:`nce.pipelines.tracking.user_champion`), otherwise the model shipped
    with the package (``nce.models.DEFAULT_MODEL_DIR``), loaded without importing MLflow.
    ``register`` (commands that log MLflow runs anyway) also registers the packaged model
    as the champion of a registry that has none, without retraining.

    Raises:
        ModelFileError: a model folder that is altered, incomplete, from another nce version,
            or trained on other data than its MLflow run recorded.
    """
    if model is not None and Path(model).exists():
        path = Path(model)
        if (path / io.META_FILE).is_file():
            return load_model_folder(path)
        if (path / "artifacts" / "nce_model" / io.META_FILE).is_file():
            return load_model_folder(path / "artifacts" / "nce_model")
        raise UserError(f"{model} holds no NCE model (no {io.META_FILE})")
    from nce.pipelines import tracking

    where = tracking.user_champion() if model is None else "given"
    if where is None:
        if register:
            from nce.pipelines import serving

            serving.register_packaged_default(on_step)
        return load_packaged_model()
    import mlflow

    tracking.setup()
    uri = model or f"models:/{tracking.REGISTERED_MODEL}@{tracking.CHAMPION_ALIAS}"
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except Exception as exc:  # MLflow raises several types for a missing model
        if where == "server":
            return load_packaged_model()  # a tracking server without a champion yet
        raise UserError(f"cannot load model {uri}: {str(exc).splitlines()[0]}") from None
    bundle = local / "artifacts" / "nce_model"
    if not bundle.is_dir():
        raise UserError(f"{uri} is not an NCE model")
    return load_model_folder(bundle, data_hash=_run_data_hash(uri))


def load_packaged_model() -> NCEModel:
    """The default model shipped with the package, its files checked by :func:`nce.models.io.load`."""
    import nce.models

    folder = nce.models.DEFAULT_MODEL_DIR
    if not (folder / io.META_FILE).is_file():
        raise UserError(
            f"the packaged default model is missing ({folder}); rebuild it with `nce train --default-model` "
            "or train your own with `nce train`"
        )
    return load_model_folder(folder)


def load_model_folder(path, data_hash: str | None = None) -> NCEModel:
    """The NCEModel saved in ``path``; ``data_hash`` (e.g. the MLflow run's tag) refuses a
    model trained on other data."""
    loaded = io.load(path, expect=NCEModel)
    if data_hash is not None and loaded.data_hash_ != data_hash:
        raise io.ModelFileError(
            f"{path} was trained on data {loaded.data_hash_[:12]}, not on the expected "
            f"{data_hash[:12]} (a model file from another run?)"
        )
    return loaded


def _run_data_hash(uri: str) -> str | None:
    """The ``data_hash`` tag of the MLflow run that logged the model at ``uri`` (None if unknown)."""
    import mlflow

    try:
        run_id = mlflow.models.get_model_info(uri).run_id
        return mlflow.MlflowClient().get_run(run_id).data.tags.get("data_hash") if run_id else None
    except Exception:  # an MLflow store without the run (e.g. a copied model): nothing to compare
        return None


def read_input(path) -> pd.DataFrame:
    """A whole CSV or Parquet input with a ``composition`` column (see :func:`iter_input`)."""
    chunks = list(iter_input(path, chunk_rows=1_000_000))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame({"composition": []})


def write_output(frame: pd.DataFrame, path) -> None:
    """Write CSV or Parquet atomically (:func:`nce.data.files.atomic_path`)."""
    path = _output_path(path)
    try:
        with atomic_path(path) as tmp:
            if path.suffix.lower() in (".parquet", ".pq"):
                import pyarrow.parquet as pq

                pq.write_table(_arrow_table(frame, None, 0), tmp)
            else:
                frame.to_csv(tmp, index=False, lineterminator=CSV_LINE_END)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def _output_path(path) -> Path:
    """``path`` as an output file whose folder exists (the temporary file goes beside it)."""
    path = Path(path)
    if not path.parent.exists():
        raise UserError(f"output folder does not exist: {path.parent}")
    if path.is_dir():
        raise UserError(f"output {path} is a folder; give a file name ending in .csv or .parquet")
    return path


def _arrow_table(result: pd.DataFrame, schema, first_row: int):
    """``result`` as an Arrow table with the file's schema (the first chunk's)."""
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(result, preserve_index=False, schema=schema)
    except (pa.ArrowException, TypeError, ValueError):
        pass
    try:
        table = pa.Table.from_pandas(result, preserve_index=False)
        return table.cast(schema, safe=False) if schema is not None else table
    except (pa.ArrowException, TypeError, ValueError) as exc:
        bad = next((c for c in result.columns if not _arrow_column_ok(result[c], schema)), None)
        where = f"column {bad!r}" if bad is not None else "a column"
        raise UserError(
            f"cannot write Parquet: {where} mixes types from row {first_row + 1} on "
            f"({str(exc).splitlines()[0][:120]}); write a .csv output instead"
        ) from None


def _settled_schema(schema, input_path):
    """``schema`` with null-typed columns given the input file's type (text for a CSV)."""
    import pyarrow as pa

    if not any(pa.types.is_null(f.type) for f in schema):
        return schema
    types = {}
    if str(input_path).lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        types = {f.name: f.type for f in pq.ParquetFile(input_path).schema_arrow}
    return pa.schema(
        [f.with_type(types.get(f.name, pa.string())) if pa.types.is_null(f.type) else f for f in schema],
        metadata=schema.metadata,
    )


def _arrow_column_ok(column: pd.Series, schema) -> bool:
    import pyarrow as pa

    try:
        arr = pa.array(column, from_pandas=True)
        if schema is not None and column.name in schema.names:
            arr.cast(schema.field(column.name).type, safe=False)
        return True
    except (pa.ArrowException, TypeError, ValueError):
        return False


def _composition_text(value) -> str:
    """A composition cell as text: empty cells are '', other non-text values their text."""
    if isinstance(value, str):
        return value
    if missing(value):
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        import json

        try:
            return json.dumps(value)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _check_csv_text(path) -> None:
    """One pass over a CSV before pandas reads it, refusing what pandas would misread
    without a word: NUL bytes (it cuts the cell at the NUL) and a row with more fields than
    the header (checked by pandas in its first chunk only: a longer row that opens a later
    chunk loses its extra fields; pandas 2.3, C parser)."""
    import csv

    def lines(fh):
        for line in fh:
            if "\x00" in line:
                raise UserError(f"{path} holds NUL bytes: not a UTF-8 text CSV (UTF-16? a binary file?)")
            yield line

    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        records = csv.reader(lines(fh))
        n_fields = len(next(records, []))
        for row, record in enumerate(records, start=1):
            if len(record) > n_fields:
                raise UserError(
                    f"{path}: row {row} has more fields than the header ({len(record)}, not {n_fields}): "
                    "check its commas and quotes"
                )


def iter_input(path, chunk_rows: int):
    """Chunks of a CSV or Parquet input, each with a ``composition`` column."""
    import warnings

    path = Path(path)
    if not path.is_file():
        raise UserError(f"input file not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            # integer_object_nulls: an int column with gaps stays ints, so chunks keep one type
            chunks = (
                b.to_pandas(integer_object_nulls=True) for b in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows)
            )
        else:
            _check_csv_text(path)
            # every column as text: the output keeps the cells as written and one type per
            # column across chunks; a blank line is a row (an empty composition), not skipped;
            # index_col=False: a row with an extra field must not turn column 1 into the index
            chunks = pd.read_csv(path, dtype=str, chunksize=chunk_rows, skip_blank_lines=False, index_col=False)
        start = 0
        while True:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
                except pd.errors.ParserWarning:  # pandas and the csv module disagree on a row: refuse it too
                    raise UserError(
                        f"{path}: a row near row {start + 1} has more fields than the header "
                        "(check its commas and quotes)"
                    ) from None
            if "composition" not in chunk.columns:
                raise UserError(
                    f"{path}: required column 'composition' is missing "
                    f"(columns: {', '.join(map(str, chunk.columns))[:200]})"
                )
            if chunk.columns.duplicated().any():
                raise UserError(f"{path}: column {chunk.columns[chunk.columns.duplicated()][0]!r} appears twice")
            chunk["composition"] = [_composition_text(v) for v in chunk["composition"].tolist()]
            start += len(chunk)
            yield chunk
    except UserError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for broken files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"cannot read {path}: {first[:200]}") from None


def predict_file(
    model,
    input_path,
    output_path,
    overrides: dict | None = None,
    strict: bool = False,
    chunk_rows: int = 25_000,
    on_chunk=lambda rows: None,
) -> dict:
    """Stream ``input_path`` through the model in chunks into ``output_path`` (atomic).

    Memory stays bounded by the chunk size (25,000 rows: about 300 MB on top of the model,
    benchmarks/predict.py); the output appears only when every chunk has
    been written, and with ``strict`` the first unusable row stops the run with nothing written.
    """
    output_path = _output_path(output_path)
    parquet = output_path.suffix.lower() in (".parquet", ".pq")
    writer, schema, n_rows, n_bad, offset, chunks = None, None, 0, 0, 0, 0
    try:
        with atomic_path(output_path) as tmp:
            try:
                for chunk in iter_input(input_path, chunk_rows):
                    for column, value in (overrides or {}).items():
                        chunk[column] = value
                    result = predict_frame(model, chunk)
                    bad = np.flatnonzero(result["error"].to_numpy() != "")
                    if strict and bad.size:
                        first = bad[0]
                        raise UserError(f"row {offset + first + 1}: {result['error'].iloc[first]} (nothing written)")
                    if parquet:
                        import pyarrow.parquet as pq

                        table = _arrow_table(result, schema, offset)
                        if writer is None:
                            # a column empty in the first chunk has Arrow type null; give it its input
                            # type (text for CSV) so later chunks with values still fit the file's schema
                            schema = _settled_schema(table.schema, input_path)
                            table = table.cast(schema)
                            writer = pq.ParquetWriter(tmp, schema)
                        writer.write_table(table)
                    else:
                        result.to_csv(tmp, mode="a", header=offset == 0, index=False, lineterminator=CSV_LINE_END)
                    offset += len(chunk)
                    n_rows += len(result)
                    n_bad += bad.size
                    chunks += 1
                    on_chunk(n_rows)
                if not chunks:
                    raise UserError(f"{input_path} holds no rows")
            finally:
                if writer is not None:
                    writer.close()  # before the file is renamed, or removed on error
    except OSError as exc:
        raise UserError(f"cannot write {output_path}: {exc.strerror or exc}") from None
    return {"rows": n_rows, "errors": n_bad}
