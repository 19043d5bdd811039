"""The ``nce`` command line: a thin layer over ``nce.pipelines``.

Every command exits 0 on success and 2 on a user error, with one line on stderr.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from nce.data.errors import NCEError
from nce.data.files import write_text_atomic
from nce.pipelines.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="NCE: conductivity of glassy solid electrolytes.")
data_app = typer.Typer(no_args_is_help=True, help="The embedded SciGlass dataset.")
app.add_typer(data_app, name="data")

console = Console()
err_console = Console(stderr=True)


def user_errors(func):
    """Turn the project's own errors (:class:`NCEError` and its subclasses) into one line on
    stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except NCEError as exc:
            err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


@data_app.command("build")
@user_errors
def data_build(
    wheel: Optional[Path] = typer.Option(
        None, help="Path to glasspy-0.4.0-py3-none-any.whl (else pip fetches it into ~/.cache/nce)."
    ),
    check: bool = typer.Option(
        False, "--check", help="Rebuild in memory and compare content hashes with the shipped files."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress output."),
) -> None:
    """Regenerate data/processed from the SciGlass files inside the glasspy wheel."""
    from nce.pipelines.data_commands import build

    if quiet:
        result = build(wheel, check=check)
    else:
        with console.status("building") as status:
            result = build(wheel, check=check, progress=status.update)
    if check:
        for name, verdict in result["check"].items():
            console.print(f"{name}: {verdict}")
        if any(v == "DIFFERS" for v in result["check"].values()):
            raise typer.Exit(code=1)
        return
    for name, meta in result["tables"].items():
        console.print(f"{name}: {meta['rows']} rows  sha256 {meta['sha256'][:12]}")


@data_app.command("info")
@user_errors
def data_info(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Counts per table, mobile ion, anion family and sigma25 source; target distributions."""
    from nce.pipelines.data_commands import info

    summary = info()
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    table = Table(title=f"NCE embedded data ({summary['source']})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name in ("conductivity", "tg", "viscosity", "density", "shear_modulus"):
        table.add_row(name, str(summary[name]["rows"]))
    console.print(table)
    cond = summary["conductivity"]
    for key in (
        "with_log10_sigma25",
        "with_Ea_eV",
        "with_Li2S",
        "publications",
        "flagged_suspect_fast_ion",
        "flagged_disagrees_with_other_labs",
    ):
        console.print(f"conductivity {key}: {cond[key]}")
    for key in ("by_mobile_ion", "by_anion_family", "by_sigma25_source"):
        console.print(f"{key}: " + ", ".join(f"{k} {v}" for k, v in cond[key].items()))
    for target in ("log10_sigma25", "Ea_eV"):
        d = cond[target]
        console.print(
            f"{target}: median {d['median']}, 5-95 % [{d['p05']}, {d['p95']}], range [{d['min']}, {d['max']}]"
        )
    lit = summary["literature"]
    console.print(f"literature (processing-labelled, data/literature): {lit['rows']} rows from {lit['papers']} papers")
    for key in ("by_state", "by_route", "by_confidence"):
        console.print(f"literature {key}: " + ", ".join(f"{k} {v}" for k, v in lit[key].items()))


def _progress(quiet: bool):
    """A status line for long jobs (silent with --quiet)."""
    import contextlib

    if quiet:
        return contextlib.nullcontext(lambda _msg: None)

    @contextlib.contextmanager
    def status():
        with err_console.status("working") as s:
            yield s.update

    return status()


FEATURIZER_PARAMS_HELP = (
    "Shrink the property sub-models for a quick look (JSON), e.g. "
    '\'{"max_rows_per_table": 1500, "submodel_params": {"n_estimators": 25}}\'; default: the cached full ones.'
)


def _parse_params(text: Optional[str], option: str = "--params") -> dict:
    if not text:
        return {}
    if Path(text).is_file():
        text = Path(text).read_text()
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{option} is not JSON: {exc.msg}") from None
    if not isinstance(params, dict):
        raise UserError(f"{option} must be a JSON object, e.g. '{{\"max_depth\": 8}}'")
    return params


@app.command()
@user_errors
def train(
    extra_data: Optional[Path] = typer.Option(
        None, "--extra-data", help="Your measurements (CSV/Parquet, dataset schema) joined to the embedded data."
    ),
    only_extra: bool = typer.Option(False, "--only-extra", help="Train on --extra-data alone."),
    params: Optional[str] = typer.Option(
        None, help="Model settings as JSON text or a JSON file (e.g. best_params from `nce tune`)."
    ),
    seed: int = typer.Option(0, help="Random seed (recorded in the MLflow run)."),
    no_cv: bool = typer.Option(
        False, "--no-cv", help="Skip the grouped cross-validation (then the champion alias moves only if none exists)."
    ),
    output: Optional[Path] = typer.Option(None, help="Also keep the model folder here."),
    featurizer_params: Optional[str] = typer.Option(None, "--featurizer-params", help=FEATURIZER_PARAMS_HELP),
    default_model: bool = typer.Option(
        False,
        "--default-model",
        help="Rebuild the default model shipped with the package (default settings, embedded data; no MLflow).",
    ),
    check: bool = typer.Option(
        False, "--check", help="With --default-model: rebuild in a temporary folder and compare with the shipped one."
    ),
    quiet: bool = typer.Option(False, "--quiet"),
) -> None:
    """Fit the conductivity and Ea models on all data, log to MLflow, register nce-conductivity."""
    from nce.pipelines.train import train as run_train

    if check and not default_model:
        raise UserError("--check goes with --default-model")
    if default_model:
        given = [
            name
            for name, value in (
                ("--extra-data", extra_data),
                ("--only-extra", only_extra),
                ("--params", params),
                ("--seed", seed != 0),
                ("--no-cv", no_cv),
                ("--output", output),
                ("--featurizer-params", featurizer_params),
            )
            if value
        ]
        if given:
            raise UserError(f"--default-model uses the default settings and data; drop {given[0]}")
        _default_model(check, quiet)
        return
    with _progress(quiet) as step:
        result = run_train(
            extra_data,
            only_extra,
            _parse_params(params),
            seed,
            cross_validate=not no_cv,
            output=output,
            featurizer_params=_parse_params(featurizer_params, "--featurizer-params"),
            on_step=step,
        )
    for note in result["skipped"]:
        err_console.print(f"skipped {note}", markup=False)
    metrics = result.get("metrics", {})
    console.print(f"run {result['run_id']}: {result['n_rows']} rows, data hash {result['data_hash'][:12]}")
    if metrics:
        console.print(
            f"publication-grouped 5-fold: log10 sigma25 MAE {metrics['cv_log10_sigma25_mae']:.3f} "
            f"(coverage {metrics['cv_log10_sigma25_coverage']:.3f}), Ea MAE {metrics['cv_Ea_eV_mae']:.3f} eV "
            f"(coverage {metrics['cv_Ea_eV_coverage']:.3f})"
        )
    if "registered_version" in result:
        console.print(
            f"registered nce-conductivity version {result['registered_version']}"
            + (" -> alias champion" if result["champion"] else " (champion kept: it scores better)")
        )


def _default_model(check: bool, quiet: bool) -> None:
    """``nce train --default-model [--check]``."""
    from nce.pipelines.train import TEXT_COLUMNS, build_default_model, check_default_model

    with _progress(quiet) as step:
        result = check_default_model(on_step=step) if check else build_default_model(on_step=step)
    if not check:
        console.print(f"wrote the default model to {result}", markup=False, soft_wrap=True)
        return
    for column, diff in result["differences"].items():
        unit = "rows differ" if column in TEXT_COLUMNS else "largest difference"
        console.print(f"{column}: {unit} {diff:g}", markup=False)
    if not result["ok"]:
        console.print(f"DIFFERS: the rebuilt default model is outside the tolerance {result['tolerance']:g}")
        raise typer.Exit(code=1)
    console.print(f"same: every prediction within {result['tolerance']:g} of the shipped default model")


@app.command()
@user_errors
def evaluate(
    protocol: list[str] = typer.Option(
        ["publication", "chemical_system", "family", "temporal"],
        "--protocol",
        help="publication, chemical_system, family, temporal (repeatable).",
    ),
    model: Optional[list[str]] = typer.Option(
        None, "--model", help="Only these models (repeatable); default all models and baselines."
    ),
    seed: int = typer.Option(0),
    max_rows: Optional[int] = typer.Option(None, help="Evaluate on a random subset (quick look)."),
    params: Optional[str] = typer.Option(None, help="NCE model settings as JSON."),
    output: Optional[Path] = typer.Option(None, help="Write the summary table (CSV) here."),
    source: str = typer.Option(
        "sciglass", "--source", help="sciglass (the protocols above) or literature (processing, paper-grouped)."
    ),
    quiet: bool = typer.Option(False, "--quiet"),
) -> None:
    """Cross-validate NCE, its ablation and the baselines under every protocol, in one run;
    with --source literature, the processing model on the cited literature rows."""
    from nce.pipelines.evaluate import PROTOCOLS, best_plain_table, markdown_table, run_evaluation

    if source == "literature":
        from nce.pipelines.literature_eval import markdown, run_literature_evaluation

        with _progress(quiet) as step:
            result = run_literature_evaluation(on_step=step)
        console.print(
            f"{result['n_rows']} literature rows from {result['papers']} papers, leave one paper out", markup=False
        )
        console.print(markdown(result["summary"]), markup=False, soft_wrap=True)
        console.print(
            result["offsets"].to_string(index=False, float_format=lambda v: f"{v:.2f}"), markup=False, soft_wrap=True
        )
        if output:
            write_text_atomic(output, result["summary"].to_csv(index=False))
        console.print(f"MLflow run {result['run_id']}")
        return
    if source != "sciglass":
        raise UserError(f"unknown source {source!r}; choose sciglass or literature")

    bad = [p for p in protocol if p not in PROTOCOLS]
    if bad:
        raise UserError(f"unknown protocol {bad[0]!r}; choose from {', '.join(PROTOCOLS)}")
    with _progress(quiet) as step:
        result = run_evaluation(
            tuple(protocol),
            models=model,
            seed=seed,
            max_rows=max_rows,
            model_params=_parse_params(params),
            on_step=step,
        )
    console.print(markdown_table(result["summary"]), markup=False, soft_wrap=True)
    if (result["summary"]["model"] == "nce_xgb").any():
        console.print(best_plain_table(result["summary"]), markup=False, soft_wrap=True)
    for target, m in result["multi_publication"].items():
        console.print(
            f"{target} on compositions measured by >= 2 publications ({m['n_pairs']} pairs), MAE: "
            + ", ".join(f"{name} {mae:.3f}" for name, mae in m["model_mae"].items())
            + f"; noise floor {m['noise_floor_mae']:.3f}"
        )
    if output:
        write_text_atomic(output, result["summary"].to_csv(index=False))
    console.print(f"MLflow run {result['run_id']}")


@app.command()
@user_errors
def predict(
    compositions: Optional[list[str]] = typer.Argument(None, help="Compositions, e.g. 70Li2S-30P2S5."),
    input: Optional[Path] = typer.Option(None, "--input", help="CSV or Parquet with a 'composition' column."),
    output: Optional[Path] = typer.Option(None, "--output", help="CSV or Parquet (by extension), written atomically."),
    temperature_C: Optional[float] = typer.Option(
        None, "--temperature-C", help="Also give log10 sigma at this temperature."
    ),
    route: Optional[str] = typer.Option(None, help="melt_quench, ball_mill, solution, sputter, other."),
    state: Optional[str] = typer.Option(None, help="glass, amorphous, glass_ceramic, amorphous_ceramic, crystalline."),
    heat_treatment_C: Optional[float] = typer.Option(None, "--heat-treatment-C"),
    model: Optional[str] = typer.Option(
        None, help="Model folder or MLflow URI (default: your champion in the registry, else the packaged model)."
    ),
    neighbors: int = typer.Option(0, "--neighbors", help="List the K nearest measured glasses."),
    strict: bool = typer.Option(False, "--strict", help="Any unusable row: exit 2, write nothing."),
    quiet: bool = typer.Option(False, "--quiet"),
) -> None:
    """Predict log10 sigma25 and Ea with 90 % intervals for compositions."""
    from nce.data.rows import check_option
    from nce.pipelines.predict import load_model, neighbors_frame, predict_file, predict_frame, read_input, write_output

    temperature_C = check_option(temperature_C, "--temperature-C", "temperature_C")  # NaN/inf: exit 2
    heat_treatment_C = check_option(heat_treatment_C, "--heat-treatment-C", "heat_treatment_C")
    if bool(compositions) == bool(input):
        raise UserError("give compositions as arguments or --input FILE (one of the two)")
    if input and not input.is_file():  # before the model loads
        raise UserError(f"input file not found: {input}")
    overrides = {
        k: v
        for k, v in (
            ("temperature_C", temperature_C),
            ("route", route),
            ("state", state),
            ("heat_treatment_C", heat_treatment_C),
        )
        if v is not None
    }
    with _progress(quiet) as step:
        nce_model = load_model(model, on_step=step)
        if input and output:
            counts = predict_file(
                nce_model, input, output, overrides, strict, on_chunk=lambda n: step(f"predicted {n:,} rows")
            )
            console.print(f"wrote {counts['rows']} rows to {output} ({counts['errors']} with an error)")
            return
        frame = read_input(input) if input else pd_frame(compositions)
        for column, value in overrides.items():
            frame[column] = value
        result = predict_frame(nce_model, frame)
    bad = result[result["error"] != ""]
    if strict and len(bad):
        raise UserError(f"row {bad.index[0] + 1}: {bad['error'].iloc[0]} ({len(bad)} unusable row(s); nothing written)")
    if output:
        write_output(result, output)
        console.print(f"wrote {len(result)} rows to {output} ({len(bad)} with an error)")
    else:
        _print_predictions(result)
    if neighbors > 0:
        near = neighbors_frame(nce_model, frame, neighbors)
        console.print(near.to_string(index=False), markup=False, soft_wrap=True)


@app.command()
@user_errors
def suggest(
    space: Optional[str] = typer.Option(
        None, "--space", help="Components and mol % bounds, e.g. 'Li2S:60-80,P2S5:20-40,LiI:0-30'."
    ),
    candidates: Optional[Path] = typer.Option(
        None,
        "--candidates",
        help="Your candidate list instead of a space (CSV or Parquet: composition, optional route, state, "
        "heat_treatment_C; other columns are kept).",
    ),
    n: int = typer.Option(8, "--n", help="Batch size."),
    acquisition: Optional[str] = typer.Option(
        None, help="ei, ucb, thompson, explore or exploit (default: ei in a --space, exploit among --candidates)."
    ),
    objective: str = typer.Option("sigma", help="sigma (maximize), ea (minimize) or pareto (both)."),
    temperature_C: Optional[float] = typer.Option(
        None, "--temperature-C", help="Optimize sigma at this working temperature."
    ),
    constraint: Optional[str] = typer.Option(
        None,
        "--constraint",
        help="Linear constraints in mol %, e.g. 'LiI <= 0.5*Li2S; Li2S + LiI >= 70' (with --candidates: of the "
        "components as each row writes them).",
    ),
    route: Optional[str] = typer.Option(None, help="Fixed synthesis route."),
    state: Optional[str] = typer.Option(None, help="State(s) to search, e.g. glass,glass_ceramic."),
    heat_treatment_C: Optional[str] = typer.Option(
        None, "--heat-treatment-C", help="Heat treatment of ceramic states: value or range, e.g. 200-400."
    ),
    measured: Optional[Path] = typer.Option(
        None, "--measured", help="Your results (dataset schema): they update the belief and are never suggested again."
    ),
    model: Optional[str] = typer.Option(
        None, help="Model folder or MLflow URI (default: your champion in the registry, else the packaged model)."
    ),
    output: Optional[Path] = typer.Option(None, "--output", help="CSV or Parquet, written atomically."),
    seed: int = typer.Option(0),
    quiet: bool = typer.Option(False, "--quiet"),
) -> None:
    """Suggest the next experiments inside a composition space or among your candidates (active learning)."""
    from nce.pipelines.predict import write_output
    from nce.pipelines.search_space import build_space
    from nce.pipelines.suggest import run_suggest

    if (space is None) == (candidates is None):
        raise UserError("give either --space (a composition space) or --candidates (a file of candidate rows)")
    if candidates is not None:
        space_only = {
            "--state": state,
            "--heat-treatment-C": heat_treatment_C,
            "--route": route,
        }
        given = [option for option, value in space_only.items() if value is not None]
        if given:
            raise UserError(f"{given[0]} shapes a --space; with --candidates give processing as columns of the file")
    search = candidates if candidates is not None else build_space(space, constraint, state, heat_treatment_C, route)
    with _progress(quiet) as step:
        result = run_suggest(
            search,
            n,
            acquisition,
            objective,
            temperature_C,
            measured,
            model,
            seed,
            on_step=step,
            constraint=constraint if candidates is not None else None,
        )
    table = result["table"]
    if result["outside_constraints"]:
        console.print(f"{result['outside_constraints']} candidate rows break --constraint: not proposed")
    already = result["measured_candidates"]
    if candidates is not None and already:
        console.print(f"{already} of the {result['candidates']} candidate rows are measured already: not proposed")
    if output:
        write_output(table, output)
        console.print(f"wrote {len(table)} suggestions to {output} (MLflow run {result['run_id']})")
        return
    view = Table(title=f"next {len(table)} experiments ({result['acquisition']}, objective {objective})")
    shown = [
        c
        for c in (
            "candidate_row",
            "composition",
            "state",
            "heat_treatment_C",
            "log10_sigma25",
            "log10_sigma_T",
            "Ea_eV",
            "acquisition",
            "reason",
            "novelty",
            "in_domain",
            "warning",
        )
        if c in table
    ]
    for c in shown:
        view.add_column(c)
    for _, r in table.iterrows():
        cells = []
        for c in shown:
            v = r[c]
            if c == "log10_sigma25":
                cells.append(f"{v:.2f} [{r['log10_sigma25_lo']:.2f}, {r['log10_sigma25_hi']:.2f}]")
            elif c == "Ea_eV":
                cells.append(f"{v:.3f} [{r['Ea_eV_lo']:.3f}, {r['Ea_eV_hi']:.3f}]")
            elif isinstance(v, float):
                cells.append("" if v != v else f"{v:.3g}")
            else:
                cells.append(str(v))
        view.add_row(*cells)
    console.print(view)
    console.print(f"MLflow run {result['run_id']}")


def pd_frame(compositions):
    import pandas as pd

    return pd.DataFrame({"composition": list(compositions)})


@app.command()
@user_errors
def tune(
    n_trials: int = typer.Option(
        30, "--n-trials", help="Finished trials the study should hold (a resumed study runs only the rest)."
    ),
    study_name: str = typer.Option("nce-conductivity", "--study-name"),
    storage: Optional[str] = typer.Option(
        None, help="Optuna storage: RDB URL, or a *.journal file for several local workers (default SQLite in mlruns/)."
    ),
    timeout_s: Optional[float] = typer.Option(
        None, "--timeout-s", help="Stop starting trials after this many seconds."
    ),
    seed: int = typer.Option(0),
    max_rows: Optional[int] = typer.Option(
        None, "--max-rows", help="Tune on a random subset of the training rows (quick look)."
    ),
    featurizer_params: Optional[str] = typer.Option(None, "--featurizer-params", help=FEATURIZER_PARAMS_HELP),
    params: Optional[str] = typer.Option(
        None, help='Fixed model settings (JSON), e.g. \'{"backend": "sklearn"}\' tunes the second model family.'
    ),
    quiet: bool = typer.Option(False, "--quiet"),
) -> None:
    """Search boosting settings with Optuna on training folds only (nested), resumable."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from nce.pipelines.tune import tune as run_tune

    if n_trials < 1:
        raise UserError("--n-trials must be at least 1")
    if max_rows is not None and max_rows < 50:
        raise UserError("--max-rows must be at least 50")
    with Progress(
        TextColumn("tuning"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
    ) as bar:
        task = bar.add_task("", total=n_trials)

        def on_trial(done, total, best):
            bar.update(task, completed=done, description=f"best MAE {best:.3f}" if best is not None else "")

        result = run_tune(
            n_trials,
            study_name,
            storage,
            seed,
            timeout_s,
            on_trial=on_trial,
            max_rows=max_rows,
            params=_parse_params(params),
            featurizer_params=_parse_params(featurizer_params, "--featurizer-params"),
        )
    console.print(
        f"study {study_name}: {result['n_finished']} finished trials; "
        f"best inner-CV MAE {result['best_inner_cv_mae']:.3f}, "
        f"held-out publications {result['held_out_fold_mae']:.3f}"
    )
    console.print(
        f"best settings written to {result['params_file']}; use them with: nce train --params {result['params_file']}",
        markup=False,
    )


def _print_predictions(result) -> None:
    """One column per composition, one row per output field (readable for a few rows)."""

    def fmt(v, digits=3):
        return f"{v:.{digits}f}" if isinstance(v, float) and v == v else ("" if isinstance(v, float) else str(v))

    from rich.markup import escape

    table = Table(show_header=True, header_style="bold")
    table.add_column("field")
    for _, row in result.iterrows():
        table.add_column(escape(str(row["composition"])), overflow="fold")
    fields = [("normalized_composition", lambda r: fmt(r["normalized_composition"]))]
    for target in ("log10_sigma25", "Ea_eV"):
        fields.append(
            (
                f"{target} [{target}_lo, {target}_hi] (90 %)",
                lambda r, t=target: "" if r["error"] else f"{fmt(r[t])} [{fmt(r[t + '_lo'])}, {fmt(r[t + '_hi'])}]",
            )
        )
    if "log10_sigma_T" in result:
        fields.append(
            (
                "log10_sigma_T at temperature_C",
                lambda r: (
                    "" if r["error"] else f"{fmt(r['log10_sigma_T'])} at {fmt(float(r['temperature_C']), 0)} degC"
                ),
            )
        )
    fields += [
        ("Tg_K", lambda r: fmt(r["Tg_K"], 0)),
        ("fragility_m", lambda r: fmt(r["fragility_m"], 1)),
        ("nbo_fraction", lambda r: fmt(r["nbo_fraction"])),
        ("novelty (decades)", lambda r: "" if r["error"] else fmt(r["novelty"], 2)),
        ("in_domain", lambda r: "" if r["error"] else str(bool(r["in_domain"]))),
        ("warning", lambda r: "" if r["error"] else str(r["warning"])),
        ("error", lambda r: r["error"]),
    ]
    for label, get in fields:
        table.add_row(escape(label), *[escape(get(r)) for _, r in result.iterrows()])
    Console(width=max(100, 34 + 30 * len(result))).print(table) if not console.is_terminal else console.print(table)


def _step_bar(quiet: bool, label: str, total: int):
    """A rich progress bar over a job's steps: ``step(message, advance=1)`` starts a step
    (the previous one is done); ``advance=0`` only updates the text. Silent with --quiet."""
    import contextlib

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bar():
        with Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err_console,
            disable=quiet,
            transient=True,
        ) as progress:
            task = progress.add_task("", total=total)
            pending = [0]

            def step(message: str, advance: int = 1) -> None:
                if advance:
                    progress.advance(task, pending[0])
                    pending[0] = advance
                progress.update(task, description=message)

            yield step
            progress.update(task, completed=total)

    return bar()


@app.command()
@user_errors
def report(
    output: Path = typer.Option(
        Path("report.html"), "--output", help="The HTML page (self-contained, written atomically)."
    ),
    model: Optional[str] = typer.Option(
        None, help="Model folder or MLflow URI (default: your champion in the registry, else the packaged model)."
    ),
    sample: int = typer.Option(2000, "--sample", help="Training glasses in the out-of-fold estimate."),
    folds: int = typer.Option(5, "--folds", help="Publication-grouped folds of the out-of-fold estimate."),
    seed: int = typer.Option(0),
    quiet: bool = typer.Option(False, "--quiet"),
) -> None:
    """One HTML page: data, parity, calibration, residuals by family, SHAP, Wilkinson, campaign."""
    from nce.pipelines.report import n_steps, run_report

    with _step_bar(quiet, "report", n_steps(folds)) as step:
        result = run_report(output, model, sample, folds, seed, on_step=step)
    m = result["metrics"]
    console.print(
        f"wrote {result['output']} ({result['n_images']} figures; MLflow run {result['run_id']})",
        markup=False,
        soft_wrap=True,
    )
    console.print(
        f"out of fold ({folds}-fold by publication, {m['oof_log10_sigma25_n']:.0f} glasses): "
        f"log10 sigma25 MAE {m['oof_log10_sigma25_mae']:.3f} (coverage {m['oof_log10_sigma25_coverage']:.3f}), "
        f"Ea MAE {m['oof_Ea_eV_mae']:.3f} eV (coverage {m['oof_Ea_eV_coverage']:.3f})",
        markup=False,
        soft_wrap=True,
    )
    console.print(
        "active-learning campaign: "
        + (f"suggest run {result['campaign']}" if result["campaign"] else "none yet (no MLflow run named suggest)"),
        markup=False,
        soft_wrap=True,
    )


@app.command("map")
@user_errors
def map_(
    system: str = typer.Argument(..., help="2 or 3 components, e.g. 'Li2O-SiO2' or 'Li2S-P2S5-LiI'."),
    temperature_C: Optional[float] = typer.Option(
        None, "--temperature-C", help="Map log10 sigma at this temperature (default 25 degC)."
    ),
    metric: str = typer.Option("sigma", "--metric", help="sigma (log10 sigma) or Ea."),
    output: Optional[Path] = typer.Option(
        None, "--output", help="PNG file (default map_<system>.png), written atomically."
    ),
    step: Optional[float] = typer.Option(
        None, "--step", help="Grid step in mol % (default 1 for a line, 2 for a triangle)."
    ),
    model: Optional[str] = typer.Option(
        None, help="Model folder or MLflow URI (default: your champion in the registry, else the packaged model)."
    ),
    quiet: bool = typer.Option(False, "--quiet"),
) -> None:
    """A binary line plot or ternary heat map of the prediction, its interval, the measured glasses and the domain."""
    from nce.pipelines.maps import N_STEPS, parse_system, run_map

    parse_system(system)  # bad input fails before the model loads
    with _step_bar(quiet, "map", N_STEPS) as bar:
        result = run_map(system, metric, temperature_C, output, model, step, on_step=bar)
    grid, measured = result["grid"], result["measured"]
    best = grid.loc[grid["value"].idxmax() if metric == "sigma" else grid["value"].idxmin()]
    console.print(
        f"wrote {result['output']}: {len(grid)} compositions of {'-'.join(result['components'])}, "
        f"{int(grid['in_domain'].sum())} in the domain, {len(measured)} measured glasses overlaid",
        markup=False,
        soft_wrap=True,
    )
    console.print(
        f"{'highest' if metric == 'sigma' else 'lowest'} predicted {result['label'].replace('$^{-1}$', '-1')}: "
        f"{best['value']:.2f} [{best['lo']:.2f}, {best['hi']:.2f}] at {best['composition']} "
        f"({'in' if best['in_domain'] else 'outside'} the domain)",
        markup=False,
        soft_wrap=True,
    )


@app.command()
@user_errors
def explain(
    composition: str = typer.Argument(..., help="One composition, e.g. 70Li2S-30P2S5."),
    output: Path = typer.Option(Path("waterfall.png"), "--output", help="Waterfall plot (PNG), written atomically."),
    top: int = typer.Option(12, "--top", help="Features shown in the table and the plot."),
    model: Optional[str] = typer.Option(
        None, help="Model folder or MLflow URI (default: your champion in the registry, else the packaged model)."
    ),
    quiet: bool = typer.Option(False, "--quiet"),
) -> None:
    """SHAP contributions of the features to one prediction (both targets): table and waterfall."""
    from rich.markup import escape

    from nce.pipelines.explain import N_STEPS, run_explain, top_table

    with _step_bar(quiet, "explain", N_STEPS) as bar:
        result = run_explain(composition, model, output, top, on_step=bar)
    for target, t in result["targets"].items():
        table = Table(
            title=escape(
                f"{result['normalized_composition']}: {target} = {t['point']:.3f} "
                f"(90 % interval [{t['lo']:.3f}, {t['hi']:.3f}]); base value {t['base']:.3f}"
            )
        )
        for column in ("feature", "value", "SHAP"):
            table.add_column(column, justify="left" if column == "feature" else "right")
        shown = top_table(result, target, top)
        for r in shown.itertuples(index=False):
            table.add_row(escape(r.feature), f"{r.value:.4g}", f"{r.shap:+.3f}")
        rest = t["point"] - t["base"] - shown["shap"].sum()
        table.add_row(f"{len(t['contribs']) - len(shown)} other features", "", f"{rest:+.3f}")
        console.print(table)
    console.print(
        f"in domain: {result['in_domain']}; waterfall written to {result['output']}", markup=False, soft_wrap=True
    )


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
