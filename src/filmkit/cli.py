"""The ``filmkit`` command: each subcommand parses its arguments and calls the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from filmkit import corpus as corpus_module
from filmkit import demo as demo_module
from filmkit.check import UnreadableInputError, all_verified, check_path
from filmkit.corpus import CorpusError, UnknownSourceError, load_corpus
from filmkit.evidence import verify
from filmkit.provenance import CleaningLogError
from filmkit.report import check_table, console, corpus_table, verdict_lines

# Input errors: one line on stderr and exit status 2, never a traceback.
EXPECTED_ERRORS = (CorpusError, UnknownSourceError, UnreadableInputError, CleaningLogError)


class FilmkitGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EXPECTED_ERRORS as error:
            message = error.args[0] if error.args else str(error)
            click.echo(f"filmkit: {message}", err=True)
            sys.exit(2)


@click.group(cls=FilmkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="filmkit")
def main() -> None:
    """A film-studies course kit on five source texts about The Perfection (2019).

    Check quotations against the sources, inspect the corpus, and run the course.
    """


@main.command("corpus")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Re-derive the cleaned texts from source_texts/originals/ and the cleaning log, "
    "and refresh the manifest's checksums and word counts.",
)
def corpus_command(rebuild: bool) -> None:
    """List the source texts, verifying each against its checksum in the manifest."""
    if rebuild:
        corpus_module.rebuild()
        click.echo("Re-derived every text from its original and source_texts/cleaning_log.csv.")
    documents = load_corpus().documents
    console().print(corpus_table(documents))


@main.command("quote")
@click.argument("text")
@click.option(
    "--source",
    "-s",
    metavar="SOURCE",
    help="The source the quotation is attributed to: an id, an author's surname or words of the title.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def quote_command(text: str, source: str | None, as_json: bool) -> None:
    """Check one quotation against the sources.

    Exit status: 0 when verified, 1 otherwise, 2 when SOURCE names no source.
    """
    verdict = verify(text, source)
    if as_json:
        click.echo(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        out = console()
        for line in verdict_lines(verdict):
            out.print(line)
    sys.exit(0 if verdict.verified else 1)


@main.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list, one object per quotation."
)
def check_command(path: Path, as_json: bool) -> None:
    """Check every quotation in a markdown file or in a notebook's markdown cells.

    Quotations are text in double quotation marks and block quotations; a parenthetical later in
    the same sentence naming a source (id, author's surname or title words) attributes them.
    Exit status: 0 when all are verified, 1 when any is not, 2 when PATH cannot be read.
    """
    results = check_path(path)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=1))
    elif results:
        console().print(check_table(results, f"Quotations in {path}"))
    else:
        click.echo(f"{path}: no quotations found.")
    sys.exit(0 if all_verified(results) else 1)


@main.command("demo")
def demo_command() -> None:
    """Run the kit's demonstration: the corpus table and a sample essay's quotation checks."""
    sys.exit(demo_module.main())


if __name__ == "__main__":  # pragma: no cover
    main()
