"""The ``filmkit`` command: each subcommand parses its arguments and calls the library."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from filmkit import corpus as corpus_module
from filmkit import demo as demo_module
from filmkit.check import UnreadableInputError, all_verified, check_path
from filmkit.corpus import CorpusError, UnknownSourceError, load_corpus
from filmkit.course.folder import GradingError
from filmkit.evidence import verify
from filmkit.provenance import CleaningLogError
from filmkit.report import check_table, console, corpus_table, verdict_lines

# Input errors: one line on stderr and exit status 2, never a traceback.
EXPECTED_ERRORS = (
    CorpusError,
    UnknownSourceError,
    UnreadableInputError,
    CleaningLogError,
    GradingError,
)


class FilmkitGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EXPECTED_ERRORS as error:
            message = error.args[0] if error.args else str(error)
            click.echo(f"filmkit: {message}", err=True)
            sys.exit(getattr(error, "exit_status", 2))


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
@click.option(
    "--scratch",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the term in miniature (default: _demo/ in the project). It is rewritten "
    "on each run; a non-empty folder that is not an earlier demo's is refused.",
)
@click.option(
    "--site/--no-site",
    default=True,
    help="Build the lesson site into the scratch folder too (default: yes; slow).",
)
def demo_command(scratch: Path | None, site: bool) -> None:
    """Run the kit's demonstration, ending with a term.

    The corpus table, a sample essay's quotation checks, then one term in miniature in a scratch
    folder: the assignments released, the specimen submissions handed in as students,
    autograded, given feedback, grades exported, the lesson site built; it prints the score
    table and where every output is.
    """
    sys.exit(demo_module.main(scratch=scratch, site=site))


# --- The term's grading cycle (filmkit.grading): nbgrader through its Python API -------------

COURSE_HELP = (
    "The nbgrader course folder, holding nbgrader_config.py and source/ "
    "(default: assignments/ of this checkout, or $FILMKIT_COURSE)."
)


def _course_option() -> Callable[[Callable[..., None]], Callable[..., None]]:
    return click.option(
        "--course", type=click.Path(file_okay=False, path_type=Path), default=None, help=COURSE_HELP
    )


@main.command("release")
@click.argument("assignments", nargs=-1)
@_course_option()
@click.option(
    "--validate/--no-validate",
    default=True,
    help="Also run nbgrader's validator: each source notebook must pass all its tests, each "
    "released one none (default: yes; a kernel per notebook).",
)
@click.option(
    "--exchange/--no-exchange",
    "to_exchange",
    default=True,
    help="Also put each release in nbgrader's exchange (c.Exchange.root), where students fetch "
    "it from JupyterLab's Assignments tab (default: yes, when that folder exists).",
)
def release_command(
    assignments: tuple[str, ...], course: Path | None, validate: bool, to_exchange: bool
) -> None:
    """Release the assignments and check them for leaks.

    nbgrader writes the student versions of the assignments (all, or those named) into release/.
    Every released file is then searched for the source notebooks' solutions, hidden tests and
    answer keys: if one is found, that release is deleted and the command fails (exit 2) naming
    each leak. A release that passes goes into nbgrader's exchange too, when the course has one.
    """
    from filmkit.course import exchange, release
    from filmkit.course.folder import load_course
    from filmkit.course.report import released_table

    released = release.main(assignments, course=course, validate=validate)
    console().print(released_table(released))
    if not to_exchange:
        return
    loaded = load_course(course)
    if not exchange.has_exchange(loaded):
        click.echo(
            f"note: no exchange folder at {exchange.exchange_root(loaded)}: students get the "
            "files of release/ some other way (see c.Exchange.root to serve them through a hub)"
        )
        return
    for one in released:
        click.echo(
            f"Released {one.assignment} to the exchange: {exchange.release(loaded, one.assignment)}"
        )


@main.command(
    "grade",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument(
    "arguments", nargs=-1, type=click.UNPROCESSED, metavar="ASSIGNMENT [NBGRADER OPTIONS]..."
)
@_course_option()
@click.option(
    "--student",
    "students",
    multiple=True,
    metavar="ID",
    help="Only this student's submission: an id or a glob, as nbgrader's (repeat for several; "
    "default: everyone in submitted/).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Notebooks run at once (default: the number of CPUs).",
)
@click.option(
    "--force",
    "-f",
    is_flag=True,
    help="Grade again students who already have a result (by default they are skipped, so a "
    "run that was stopped resumes where it was).",
)
@click.option(
    "--cell-timeout",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds a cell may run (default: c.Execute.timeout in nbgrader_config.py).",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run submissions without bubblewrap (they could read hidden tests and the gradebook): "
    "only for trusted notebooks on machines without bwrap.",
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    default=None,
    help="Grade on the workers of the Dask scheduler at ADDRESS (tls://host:8786; tcp:// on "
    "this machine only); default: c.GradingCluster.scheduler, else this machine. See "
    "`filmkit cluster --help`.",
)
@click.option(
    "--help-all",
    is_flag=True,
    help="This help, then every option and configurable of nbgrader autograde.",
)
def grade_command(
    arguments: tuple[str, ...],
    course: Path | None,
    students: tuple[str, ...],
    jobs: int | None,
    force: bool,
    cell_timeout: float | None,
    no_sandbox: bool,
    cluster: str | None,
    help_all: bool,
) -> None:
    """Autograde the submissions of an assignment.

    Every submission of ASSIGNMENT under submitted/ is graded by nbgrader's own autograde, its
    notebooks run in parallel, each in a fresh sandboxed process (no network; hidden tests,
    gradebook and other students out of sight). Results go into gradebook.db and autograded/ as
    with `nbgrader autograde`, one student at a time, whole, with the files each notebook
    wrote beside it. Prints a table of each student's score, status and the reason for any
    status other than graded.

    It takes nbgrader autograde's own options and configuration as nbgrader reads them:
    --db URL, --notebook NAME (a glob: only those notebooks, the others' results kept),
    --no-execute (score the outputs as handed in), --course-dir DIR, --assignment ID,
    --Autograde.create_student=False, --CourseDirectory.student_id_exclude=A,B, and any
    --Class.trait=value (e.g. --ClearMetadataPreprocessor.enabled=True, --Execute.timeout=2,
    --AutogradeApp.permissions=644); nbgrader_config.py is read from the working folder as by
    nbgrader, which also finds the course there. --course is the course folder (nbgrader's
    --course, the course id, is --CourseDirectory.course_id=ID). See --help-all.

    Exit status: 0 when every submission asked for was graded (or already was); 1 when one
    could not be (failed, rejected or unreadable: the others are still graded) or nbgrader
    autograde would fail (an assignment it does not know, no submission); 2 for a command
    line or configuration that cannot be read.
    """
    if help_all:
        from filmkit.grading import settings

        ctx = click.get_current_context()
        click.echo(ctx.get_help())
        click.echo("\nnbgrader autograde's options (all taken by filmkit grade):\n")
        click.echo(settings.help_all())
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from filmkit.grading import grade

    out = console()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,  # a bar only where someone watches; logs stay clean
    ) as bar:
        task = bar.add_task("grading", total=None)

        def advance(student: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"graded {student}")

        summary = grade.main(
            None,
            course=course,
            students=students or None,
            jobs=jobs,
            force=force,
            sandbox=not no_sandbox,
            cell_timeout=cell_timeout,
            progress=advance,
            message=lambda text: out.print(text, markup=False),
            nbgrader_args=arguments,
            cluster=cluster,
        )
    # imported after grading: it imports nbgrader, whose start a small run overlaps with the
    # worker's (grade.start_early)
    from filmkit.course.report import grade_table

    out.print(grade_table(summary))
    if summary.failed:
        click.echo(
            f"filmkit: {len(summary.failed)} submission(s) of {summary.assignment} could not be "
            f"graded: {', '.join(summary.failed)} (see the reasons above)",
            err=True,
        )
        sys.exit(1)


def _tls_options(role: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(
            [
                click.option(
                    "--tls-ca-file",
                    default="",
                    metavar="PEM",
                    help="The cluster's certificate authority (`filmkit cluster certs`).",
                ),
                click.option(
                    "--tls-cert",
                    default="",
                    metavar="PEM",
                    help=f"The {role}'s certificate, with its key unless --tls-key is given.",
                ),
                click.option("--tls-key", default="", metavar="PEM", help="Its private key."),
            ]
        ):
            command = option(command)
        return command

    return decorate


@main.group("cluster")
def cluster_group() -> None:
    """A Dask cluster that grades: its scheduler, its workers and their certificates.

    `filmkit grade ASSIGNMENT --cluster ADDRESS` sends the notebooks to the workers of the
    scheduler at ADDRESS; each worker runs the same sandboxed engine as local grading, after
    proving it has the grader's filmkit, libraries and source texts. Off this machine every
    party needs TLS certificates (`filmkit cluster certs DIR`). See deploy/dask.md.
    """


@cluster_group.command("scheduler")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8786, show_default=True, type=click.IntRange(0, 65535))
@_tls_options("scheduler")
def cluster_scheduler_command(
    host: str, port: int, tls_ca_file: str, tls_cert: str, tls_key: str
) -> None:
    """Run a scheduler until interrupted; prints its address. Off loopback only with TLS."""
    from filmkit.grading.cluster import role_security
    from filmkit.grading.cluster_serve import serve_scheduler

    serve_scheduler(
        host,
        port,
        tls=role_security("scheduler", tls_ca_file, tls_cert, tls_key),
        on_ready=lambda address: click.echo(f"filmkit cluster scheduler at {address}"),
    )


@cluster_group.command("worker")
@click.argument("scheduler")
@click.option(
    "--nthreads",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Notebooks this worker runs at once (one per core is usual).",
)
@click.option("--name", default=None, help="The worker's name (a number picks its sandbox uids).")
@click.option(
    "--host",
    default=None,
    help="The address to listen on (default: 127.0.0.1 without TLS, else every interface).",
)
@_tls_options("worker")
def cluster_worker_command(
    scheduler: str,
    nthreads: int,
    name: str | None,
    host: str | None,
    tls_ca_file: str,
    tls_cert: str,
    tls_key: str,
) -> None:
    """Run a grading worker for the scheduler at SCHEDULER until interrupted.

    It needs this kit installed from the same uv.lock as the grader's and the course's source
    texts (FILMKIT_ROOT); each run sends it the grading engine.
    """
    from filmkit.grading.cluster import role_security
    from filmkit.grading.cluster_serve import serve_worker

    serve_worker(
        scheduler,
        nthreads=nthreads,
        name=name,
        host=host,
        tls=role_security("worker", tls_ca_file, tls_cert, tls_key),
        on_ready=lambda address: click.echo(f"filmkit cluster worker at {address}"),
    )


@cluster_group.command("certs")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3650))
def cluster_certs_command(folder: Path, days: int) -> None:
    """Write a certificate authority and the scheduler's, workers' and grader's certificates
    into FOLDER (keys readable by their owner only; keep ca-key.pem off the workers)."""
    from filmkit.grading.tls import make_certificates

    try:
        written = make_certificates(folder, days=days)
    except FileExistsError as error:
        raise click.ClickException(str(error)) from None
    for role, path in written.items():
        click.echo(f"{role:>9}: {path}")


@main.command("feedback")
@click.argument("assignment")
@_course_option()
@click.option(
    "--require-marked",
    is_flag=True,
    help="Write nothing while any written answer (a manually graded cell) is still unmarked: "
    "exit 2 naming them and how to mark them in formgrader. By default feedback is written and "
    "says 'awaiting marking' for them.",
)
@click.option(
    "--release",
    "hand_back",
    is_flag=True,
    help="Then hand the feedback back through nbgrader's exchange, where each student fetches "
    "their own from JupyterLab's Assignments tab.",
)
def feedback_command(
    assignment: str, course: Path | None, require_marked: bool, hand_back: bool
) -> None:
    """Write the students' feedback for an assignment.

    Each autograded student's feedback HTML for ASSIGNMENT goes into feedback/, with the hidden
    tests removed; no file may give away a solution or a hidden test (exit 2 naming it). Each
    failed test says whether the visible check or a hidden test failed, or the answer was never
    defined, and names its question. Written answers not yet marked show "awaiting marking" and
    are left out of the total: a warning on stderr counts them.
    """
    from filmkit.course import feedback
    from filmkit.course.report import feedback_table

    results = feedback.main(assignment, course=course, require_marked=require_marked)
    console().print(feedback_table(results))
    waiting = [u for r in results for u in r.awaiting]
    if waiting:
        message = feedback.awaiting_message(assignment, waiting, students=len(results))
        click.echo(f"filmkit: warning: {message}", err=True)
    if hand_back:
        from filmkit.course import exchange
        from filmkit.course.folder import load_course

        where = exchange.release_feedback(load_course(course), assignment)
        click.echo(f"Handed {len(results)} student(s)' feedback back through {where}")


@main.command("export")
@_course_option()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The grades CSV to write (default: grades.csv in the course folder); the per-question "
    "CSV goes beside it as NAME-per-question.csv.",
)
@click.option(
    "--lms",
    type=click.Choice(["canvas", "moodle"]),
    default=None,
    help="Also write NAME-canvas.csv or NAME-moodle.csv, in that LMS's grade-import format: one "
    "row per student (ids from the roster: nbgrader db student import), a column per "
    "assignment; cells of submissions not graded or awaiting a marker are left empty.",
)
def export_command(course: Path | None, out: Path | None, lms: str | None) -> None:
    """Export the grades as CSV files.

    A grades CSV (nbgrader's export, one row per student and assignment) and a per-question CSV
    (one row per student and question); with --lms, the LMS's import file too.
    """
    from filmkit.course import export
    from filmkit.course.report import export_table

    exported = export.main(course=course, out=out, lms=lms)
    console().print(export_table(exported))
    click.echo(f"Wrote {exported.grades_csv} and {exported.per_question_csv}")
    if exported.lms is not None:
        click.echo(f"Wrote {exported.lms.path} (import it into {lms})")
        for line in exported.lms.not_exported:
            click.echo(f"filmkit: left empty: {line}", err=True)


@main.command("collect")
@click.argument("assignment")
@_course_option()
@click.option(
    "--zip",
    "archive",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Collect from an LMS's bulk download of the submissions (a .zip) instead of the "
    "exchange; needs --lms.",
)
@click.option(
    "--lms",
    type=click.Choice(["canvas", "moodle"]),
    default=None,
    help="Whose file naming the --zip download has (Canvas's or Moodle's).",
)
def collect_command(
    assignment: str, course: Path | None, archive: Path | None, lms: str | None
) -> None:
    """Collect ASSIGNMENT's submissions into submitted/.

    From nbgrader's exchange (what students handed in from JupyterLab's Assignments tab, each
    with the time nbgrader's submit recorded), or with --zip from an LMS's download: nbgrader's
    zip_collect unpacks it and each file's LMS user number is looked up in the roster (the
    students' lms_user_id: nbgrader db student import roster.csv). Files of a number not in the
    roster are skipped and named (exit 1), never filed under a guessed student.
    """
    from filmkit.course.folder import load_course

    if archive is None:
        if lms is not None:
            raise click.UsageError("--lms goes with --zip (an LMS's download)")
        from filmkit.course import exchange

        collected = exchange.collect(load_course(course), assignment)
    else:
        if lms is None:
            raise click.UsageError("--zip needs --lms canvas or --lms moodle")
        from filmkit.course.lms import collect_zip

        collected = collect_zip(assignment, archive, lms=lms, course=course)
    click.echo(
        f"Collected {len(collected.students)} submission(s) of {assignment}: "
        f"{', '.join(collected.students) or '(none)'}"
    )
    for line in collected.skipped:
        click.echo(f"filmkit: skipped {line}", err=True)
    if collected.skipped:
        sys.exit(1)


@main.command("report")
@click.argument("assignment")
@_course_option()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The HTML file to write (default: reports/ASSIGNMENT.html in the course folder).",
)
def report_command(assignment: str, course: Path | None, out: Path | None) -> None:
    """Write an HTML report on the grading of an assignment, for the instructor.

    One self-contained page that opens offline: the distribution of total scores, each
    question's share of points earned (hardest first), the quotations students most often got
    wrong, and each student's grading status. Prints the path written.
    """
    from filmkit.course import classreport

    click.echo(f"Wrote {classreport.main(assignment, course=course, out=out).path}")


@main.group("hub", invoke_without_command=True)
@_course_option()
@click.option("--ip", default="127.0.0.1", show_default=True, help="Where the hub listens.")
@click.option("--port", type=int, default=8000, show_default=True, help="The hub's port.")
@click.option(
    "--authenticator",
    type=click.Choice(["pam", "native"]),
    default="pam",
    show_default=True,
    help="pam: the students' system accounts and passwords; native: students sign up and the "
    "instructor approves (needs jupyterhub-nativeauthenticator).",
)
@click.option(
    "--share",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/srv/filmkit-share"),
    show_default=True,
    help="A folder every student can read: their nbgrader configuration and the corpus.",
)
@click.option(
    "--grader",
    "graders",
    multiple=True,
    help="A user who grades (formgrade-<course> group); repeat for each. Also an admin. "
    "formgrader runs as the first, who must own the course folder.",
)
@click.option(
    "--allow",
    "others",
    multiple=True,
    help="Also let this user log in, in no group of the course (another course's student on a "
    "shared hub: they see none of this course); repeat for each.",
)
@click.pass_context
def hub_command(
    ctx: click.Context,
    course: Path | None,
    ip: str,
    port: int,
    authenticator: str,
    share: Path,
    graders: tuple[str, ...],
    others: tuple[str, ...],
) -> None:
    """Serve the course to a class through JupyterHub (run as root).

    JupyterHub behind configurable-http-proxy, on loopback unless --ip says otherwise (put a
    TLS-terminating proxy in front for a real class). Each student in the roster (filmkit hub
    roster add FILE) logs in with their system account; their server runs as them, with the
    kit's environment and nbgrader's Assignments tab on the course's exchange. Stop with Ctrl-C.
    """
    if ctx.invoked_subcommand is not None:
        ctx.obj = course
        return
    from filmkit.course import hub
    from filmkit.course.folder import load_course

    loaded = load_course(course)
    settings = hub.HubSettings(
        loaded,
        share=share,
        ip=ip,
        port=port,
        authenticator=authenticator,
        students=hub.students_in(loaded),
        graders=graders,
        admins=graders,
        others=others,
        formgrader_user=graders[0] if graders else "",
    )
    config = hub.prepare(settings)
    click.echo(f"JupyterHub for {loaded.course_id} at http://{ip}:{port}/ (config: {config})")
    import os

    os.chdir(settings.state)  # JupyterHub writes beside its database
    os.execv(hub.command(config)[0], hub.command(config))


@hub_command.group("roster")
def roster_group() -> None:
    """The class list: who may log in to the hub."""


@roster_group.command("add")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--no-users",
    is_flag=True,
    help="Only add them to the gradebook; make no system users (they exist already).",
)
@click.pass_obj
def roster_add_command(course: Path | None, roster: Path, no_users: bool) -> None:
    """Add the students of ROSTER (a CSV: id,first_name,last_name,email,lms_user_id).

    Each goes into the gradebook (as nbgrader db student import) and, as root, gets a system
    user of that name when there is none (their password is set with passwd, or by the
    institution's accounts); the hub then lets them in.
    """
    from filmkit.course import hub
    from filmkit.course.folder import load_course

    added = hub.add_roster(load_course(course), roster, make_users=not no_users)
    click.echo(f"{len(added)} student(s) in the roster: {', '.join(added)}")


@main.command("lab")
@_course_option()
@click.option(
    "--instructor",
    is_flag=True,
    help="Serve the course folder with nbgrader's formgrader (marking, gradebook) instead of "
    "a student's workspace.",
)
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The student's folder (default: _student/ beside the course folder); released "
    "assignments and the lessons (into lessons/) are copied in when missing, never over a "
    "student's work.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port on 127.0.0.1 (default: a free one).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
def lab_command(
    course: Path | None,
    instructor: bool,
    workspace: Path | None,
    port: int | None,
    no_browser: bool,
) -> None:
    """Start JupyterLab for a student or the instructor.

    JupyterLab on 127.0.0.1 with a token: on a student's lessons and released assignments
    (with nbgrader's Validate button; formgrader off), or with --instructor on the course folder
    with formgrader. Prints the URL; stop it with Ctrl+C.
    """
    from filmkit.course import lab

    launch = lab.main(
        course=course,
        instructor=instructor,
        workspace=workspace,
        port=port,
        open_browser=not no_browser,
    )
    click.echo(f"JupyterLab ({launch.mode}) serving {launch.root_dir}")
    for path in launch.copied:
        click.echo(f"  copied {path} into the workspace")
    for note in launch.notes:
        click.echo(note)
    click.echo(f"Open: {launch.url}")
    for notebook in launch.notebooks:
        click.echo(f"  {launch.notebook_url(notebook)}")
    if instructor:
        click.echo(f"Formgrader: http://127.0.0.1:{launch.port}/formgrader?token={launch.token}")
    sys.exit(lab.serve(launch))


@main.command("publish")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the site to (default: _site/ in the project). An earlier build "
    "there is replaced; any other non-empty folder is refused.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Lessons executed at the same time, each in its own kernel.",
)
@click.option(
    "--hub-url",
    metavar="URL",
    default=None,
    help="The course hub's address (filmkit hub, as students open it), e.g. "
    "https://hub.example.edu: each lesson page then links to the student's own copy of the "
    "lesson in JupyterLab there (~/lessons/NN-name.ipynb). Without it the site has no hub links.",
)
def publish_command(out: Path | None, jobs: int, hub_url: str | None) -> None:
    """Execute the lessons and publish them as a static HTML site that works offline.

    The site has a home page with the course outline and the table of contents, each lesson of
    course/ with its interactive figures, and the corpus manifest; plotly.js is shipped once.
    Each lesson page offers its notebook for download (lessons/NN-name.ipynb, the course/ file
    as stored, without outputs, for the student to run). Assignments are never published.
    Prints the pages written, the total size, the heaviest pages as a browser loads them (HTML
    plus every file each loads, counted once; a notebook is downloaded only when asked for) and
    the notebooks. With --hub-url, each lesson page opens with a link to the student's copy of it
    on the course hub, then the download link. Exit status 1 when a lesson fails or a course/
    notebook holds outputs, the site cannot be built or the hub's address is not an http(s) one
    (checked before any lesson runs).
    """
    from filmkit import site
    from filmkit.lessons import LessonExecutionError

    try:
        report = site.main(out=out, jobs=jobs, hub_url=hub_url)
    except (site.SiteError, LessonExecutionError) as error:
        click.echo(f"filmkit publish: {error}", err=True)
        sys.exit(1)
    for line in site.summary_lines(report):
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    main()
