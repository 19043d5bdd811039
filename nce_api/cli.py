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

from nce.featurize.composition import CompositionError
from nce.pipelines.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="NCE: conductivity of glassy solid electrolytes.")
data_app = typer.Typer(no_args_is_help=True, help="The embedded SciGlass dataset.")
app.add_typer(data_app, name="data")

console = Console()
err_console = Console(stderr=True)


def user_errors(func):
    """Turn the project's own errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (UserError, CompositionError) as exc:
            err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


@data_app.command("build")
@user_errors
def data_build(
    wheel: Optional[Path] = typer.Option(None, help="Path to glasspy-0.4.0-py3-none-any.whl (else pip fetches it into ~/.cache/nce)."),
    check: bool = typer.Option(False, "--check", help="Rebuild in memory and compare content hashes with the shipped files."),
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
        for name, ok in result["check"].items():
            console.print(f"{name}: {'identical' if ok else 'DIFFERS'}")
        if not all(result["check"].values()):
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
    for key in ("with_log10_sigma25", "with_Ea_eV", "with_Li2S", "publications", "flagged_suspect_fast_ion"):
        console.print(f"conductivity {key}: {cond[key]}")
    for key in ("by_mobile_ion", "by_anion_family", "by_sigma25_source"):
        console.print(f"{key}: " + ", ".join(f"{k} {v}" for k, v in cond[key].items()))
    for target in ("log10_sigma25", "Ea_eV"):
        d = cond[target]
        console.print(f"{target}: median {d['median']}, 5-95 % [{d['p05']}, {d['p95']}], range [{d['min']}, {d['max']}]")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
