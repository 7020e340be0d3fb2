"""The lessons in course/: stored clean, complete as class sessions, and executed top to bottom.

The stored notebooks are executed once per test session (``executed_lessons`` in conftest.py):
fresh kernels, the lesson's folder as working directory, Python warnings as errors, and any
stderr output a failure. A second run fills in the self-check answers, to show that each exercise
marks a right answer right.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from filmkit.analysis import (
    GENRE_TERMS,
    find_terms,
    lexicon_valence,
    paragraph_sentiment,
    spelling_table,
    term_counts,
)
from filmkit.annotations import load_annotation
from filmkit.check import check_path
from filmkit.corpus import Corpus
from filmkit.lessons import LESSON_NAME, ExecutedLesson, course_dir, execute_lessons, is_clean
from filmkit.teaching import CONTENT_TERMS

from .conftest import REPO

LESSONS = (
    "00-orientation.ipynb",
    "01-genre-shifts.ipynb",
    "02-mentorship-power.ipynb",
    "03-critical-reception.ipynb",
)
PLOTLY = "application/vnd.plotly.v1+json"
REQUIRED_SECTIONS = (
    "Learning objectives",
    "Readings",
    "Time plan",
    "For instructors",
    "Discussion questions",
    "Self-check exercises",
)
# The worked answers to every self-check exercise, as a student would type them.
ANSWERS: dict[str, dict[str, object]] = {
    "00-orientation.ipynb": {
        "answer_1": 11,
        "answer_2": ["worth-watching", "nothing-perfect"],
        "my_sentence": "The review introduces “her former cellist instructor Anton (Steven Webber)” "
        "(nothing-perfect).",
        "my_score_sentence": "The page scores the film “60% CHILLIN” (worth-watching).",
    },
    "01-genre-shifts.ipynb": {
        "answer_1": "madness-music-genius",
        "answer_2": "Home",
        "answer_3": "worth-watching",
        "my_sentence": "The director says the film “ends as an empowerment story” "
        "(madness-music-genius).",
    },
    "02-mentorship-power.ipynb": {
        "answer_1": "perfection-explained",
        "answer_2": 13,
        "answer_3": ["Whiplash", "Black Swan"],
        "answer_4": "second reveal",
    },
    "03-critical-reception.ipynb": {
        "answer_1": ["worth-watching", "60% CHILLIN"],
        "answer_2": "madness-music-genius",
        "answer_3": 2.7,
        "answer_4": ["director", "release year"],
    },
}


def read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def markdown(notebook: Any) -> list[str]:
    return [str(c.source) for c in notebook.cells if c.cell_type == "markdown"]


def headings(notebook: Any) -> list[str]:
    """The headings of the markdown cells, without a section number (``6. Self-check`` …)."""
    return [
        re.sub(r"^\d+(?:\.\d+)*\.\s+", "", m.group(1).strip())
        for text in markdown(notebook)
        for m in re.finditer(r"^#{1,3}\s+(.+)$", text, re.M)
    ]


def outputs_text(notebook: Any) -> str:
    """Everything a reader of the executed notebook sees: markdown, printed and displayed outputs,
    and the figures' JSON (hover text included)."""
    parts = markdown(notebook)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            for value in output.get("data", {}).values():
                parts.append(
                    value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                )
    return "\n".join(parts)


def self_check_outputs(notebook: Any) -> list[str]:
    """What each self-check cell printed (a cell's stream outputs joined: a kernel may split one
    print into several messages)."""
    return [
        "".join(str(o.get("text", "")) for o in c.get("outputs", []))
        for c in notebook.cells
        if c.cell_type == "code" and "self_check(" in str(c.source)
    ]


@pytest.fixture(scope="session")
def executed(executed_lessons: list[ExecutedLesson]) -> dict[str, Any]:
    return {lesson.source.name: read(lesson.executed) for lesson in executed_lessons}


# ---------------------------------------------------------------------------------------------
# Stored notebooks


def test_the_course_has_the_four_lessons_stably_named() -> None:
    stored = sorted(p.name for p in course_dir().glob("*.ipynb"))
    assert stored == list(LESSONS)
    assert all(LESSON_NAME.match(name) for name in LESSONS)
    assert [int(name[:2]) for name in LESSONS] == list(range(len(LESSONS)))


@pytest.mark.parametrize("name", LESSONS)
def test_lessons_are_stored_without_outputs(name: str) -> None:
    path = course_dir() / name
    assert is_clean(path), f"{name} has outputs or execution counts: clear them before committing"
    notebook = read(path)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", LESSONS)
def test_each_lesson_is_a_class_session(name: str) -> None:
    notebook = read(course_dir() / name)
    found = headings(notebook)
    for section in REQUIRED_SECTIONS:
        assert any(h.startswith(section) for h in found), f"{name} lacks a {section!r} section"
    # it opens with its title and a content note, before any code
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    opening = " ".join(markdown(read(course_dir() / name))[:first_code])
    assert "**Content note.**" in opening
    # a time plan of 60-90 minutes whose table adds up to the stated length
    text = "\n".join(markdown(notebook))
    stated = re.search(r"## Time plan \((\d+) minutes\)", text)
    assert stated and 60 <= int(stated.group(1)) <= 90
    rows = re.findall(r"^\| (\d+)–(\d+) \|", text, re.M)
    assert rows and rows[0][0] == "0" and rows[-1][1] == stated.group(1)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(rows)), "no gaps in the plan"
    # objectives and discussion questions are numbered lists of at least four items
    for section in ("Learning objectives", "Discussion questions"):
        body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
        assert len(re.findall(r"^\d+\. ", body, re.M)) >= 4, (name, section)
    # at least three self-check exercises, each checked through filmkit.teaching.self_check
    code = "\n".join(str(c.source) for c in notebook.cells if c.cell_type == "code")
    assert code.count("self_check(") >= 3
    # prose that teaches: far more words of markdown than of code
    assert len(text.split()) > 2 * len(code.split())
    assert len(text.split()) > 1500


@pytest.mark.parametrize("name", LESSONS)
def test_every_quotation_in_a_lesson_is_verified(name: str, corpus: Corpus) -> None:
    results = check_path(course_dir() / name, corpus=corpus)
    assert results, f"{name} quotes no source"
    failures = [
        f"{r.where}: {r.quotation.text!r}: {r.message}" for r in results if not r.verdict.verified
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", LESSONS)
def test_paragraph_references_exist(name: str, corpus: Corpus) -> None:
    counts = corpus.paragraphs.groupby("source").size()
    text = "\n".join(markdown(read(course_dir() / name)))
    references = re.findall(r"`([a-z]+(?:-[a-z]+)+)`,? ¶(\d+)(?:–¶(\d+))?", text)
    assert references
    for source, first, last in references:
        assert source in counts.index, source
        for number in (first, last):
            if number:
                assert int(number) < counts[source], f"{name}: {source} ¶{number}"


@pytest.mark.parametrize("name", LESSONS)
def test_figures_use_plotlys_default_renderer(name: str) -> None:
    code = "\n".join(
        str(c.source) for c in read(course_dir() / name).cells if c.cell_type == "code"
    )
    for forbidden in ("renderers", "init_notebook_mode", "include_plotlyjs", "write_html"):
        assert forbidden not in code


# ---------------------------------------------------------------------------------------------
# Executed notebooks


def test_every_lesson_executes_in_time(executed_lessons: list[ExecutedLesson]) -> None:
    assert sorted(lesson.source.name for lesson in executed_lessons) == list(LESSONS)
    for lesson in executed_lessons:
        assert lesson.seconds < 90, f"{lesson.source.name} took {lesson.seconds:.0f} s"
        notebook = read(lesson.executed)
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                assert output["output_type"] != "error"
                assert output.get("name") != "stderr"


@pytest.mark.parametrize("name", LESSONS)
def test_each_figure_is_interactive_titled_and_described(
    name: str, executed: dict[str, Any]
) -> None:
    cells = executed[name].cells
    figures = [
        i
        for i, c in enumerate(cells)
        if any(PLOTLY in o.get("data", {}) for o in c.get("outputs", []))
    ]
    assert len(figures) >= 2, f"{name} shows {len(figures)} plotly figures"
    for index in figures:
        outputs = [o for o in cells[index].outputs if PLOTLY in o.get("data", {})]
        assert len(outputs) == 1
        assert "text/html" not in outputs[0]["data"], "no plotly.js in the notebook"
        layout = outputs[0]["data"][PLOTLY]["layout"]
        assert layout["title"]["text"]
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
        following = cells[index + 1]
        assert following.cell_type == "markdown", (
            f"{name}: the figure in cell {index} is not described"
        )
        description = str(following.source).strip()
        assert description.startswith("*Figure:") and description.endswith("*")
        assert len(re.findall(r"[.!?](?:\s|\*$)", description)) <= 2, (
            "one sentence (and a hover hint)"
        )


def test_self_checks_run_unanswered(executed: dict[str, Any]) -> None:
    for name, notebook in executed.items():
        printed = self_check_outputs(notebook)
        assert len(printed) >= 3, name
        for text in printed:
            assert "Not answered yet" in text or "Not yet" in text, (name, text)


def test_no_lesson_displays_the_explicit_passages(executed: dict[str, Any], corpus: Corpus) -> None:
    """The sources' words around every mention of sexual abuse, suicide or self-harm are never
    shown: not in markdown, tables, printed output or figure hover text. (Content notes name the
    subject in the lesson's own words; the sources' explicit words stay in the sources.)"""
    explicit = {label: CONTENT_TERMS[label] for label in ("sexual abuse", "suicide and self-harm")}
    hits = find_terms(explicit, corpus)
    assert not hits.empty
    windows = []
    for hit in hits.itertuples():
        text = corpus.text(hit.source)
        before = text[: hit.start].split()[-3:]
        after = text[hit.end :].split()[:3]
        windows.append(" ".join([*before, hit.text, *after]))
    abuse_words = re.compile(
        "|".join(rf"(?<!\w){re.escape(s)}(?!\w)" for s in CONTENT_TERMS["sexual abuse"]), re.I
    )
    for name, notebook in executed.items():
        seen = " ".join(outputs_text(notebook).split())
        for window in windows:
            assert window not in seen, (name, window)
        displayed = " ".join(
            outputs_text(
                nbformat.v4.new_notebook(cells=[c for c in notebook.cells if c.cell_type == "code"])
            ).split()
        )
        assert not abuse_words.search(displayed), (name, abuse_words.search(displayed))


# ---------------------------------------------------------------------------------------------
# What the figure descriptions state is true of the data


def described_figure(notebook: Any, title: str) -> tuple[dict[str, Any], str]:
    """The plotly figure whose title starts with ``title``, and its description (white space
    collapsed)."""
    cells = notebook.cells
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            figure = output.get("data", {}).get(PLOTLY)
            if figure and figure["layout"]["title"]["text"].startswith(title):
                return figure, " ".join(str(cells[index + 1].source).split())
    raise AssertionError(f"no figure titled {title!r}")


def decoded(values: Any) -> list[Any]:
    """An array of plotly's JSON: a list, or a typed array ``{"dtype", "bdata", "shape"}``."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        if "shape" in values:
            array = array.reshape([int(n) for n in str(values["shape"]).split(",")])
        return list(array.tolist())
    return list(values)


def signed(value: float) -> str:
    """A valence or score as the descriptions print it: −3.4, +2.7."""
    return f"{value:+.1f}".replace("-", "−")


def test_lesson_00_figure_descriptions_match_the_data(
    executed: dict[str, Any], corpus: Corpus
) -> None:
    lesson = executed["00-orientation.ipynb"]
    documents = corpus.documents.sort_values("words")
    _, text = described_figure(lesson, "The five sources")
    for row in (documents.iloc[0], documents.iloc[-1]):
        assert f"`{row['id']}`" in text and f"({row['words']:,} words)" in text
    assert "by far the longest" in text and documents["id"].iloc[-1] in text.split("longest")[0]

    _, text = described_figure(lesson, "The sample essay")
    statuses = [
        str(r.verdict.status) for r in check_path(course_dir() / "sample-essay.md", corpus=corpus)
    ]
    words = {1: "one", 8: "eight", 11: "eleven"}
    assert f"{words[len(statuses)]} quotations" in text
    for status, phrase in (
        ("verified", "verified"),
        ("misattributed", "misattributed"),
        ("near-miss", "near-miss"),
        ("not-found", "not found"),
    ):
        assert f"{words[statuses.count(status)]} {phrase}" in text


def test_lesson_01_figure_descriptions_match_the_data(
    executed: dict[str, Any], corpus: Corpus
) -> None:
    lesson = executed["01-genre-shifts.ipynb"]
    counts = term_counts(GENRE_TERMS, corpus)
    _, text = described_figure(lesson, "Genre labels")
    totals, labels = counts.sum(axis=1), counts.sum()
    assert f"`{totals.idxmax()}` uses the most labels ({totals.max()})" in text
    assert f"{labels.idxmax()} is the most frequent label overall ({labels.max()}" in text
    for label in ("giallo", "surrealism"):
        assert set(counts.index[counts[label] > 0]) == {"nothing-perfect"}
    assert "giallo and surrealism occur only in `nothing-perfect`" in text

    hits = find_terms(GENRE_TERMS, corpus)
    length = {s: len(corpus.text(s)) for s in corpus.ids}
    position = hits["start"] / hits["source"].map(length)
    _, text = described_figure(lesson, "Where each source")
    revenge = position[(hits["label"] == "revenge") & (hits["source"] == "perfection-explained")]
    assert len(revenge) == 3 and (revenge > 0.7).all() and "all three revenge terms" in text
    late = position[
        (hits["source"] == "nothing-perfect")
        & hits["label"].isin(["giallo", "surrealism", "B movie"])
    ]
    assert (late > 0.75).all() and "final quarter" in text

    chapters = load_annotation("genre_by_chapter", corpus=corpus)
    dominant = chapters[chapters["salience"] == 3].groupby("chapter")["genre"].agg(set)
    _, text = described_figure(lesson, "Genres in play")
    assert (
        dominant["Mission"] == {"psychological drama"}
        and "psychological drama dominates Mission" in text
    )
    assert (
        dominant["Detour"] == {"horror", "body horror"}
        and "horror and body horror dominate Detour" in text
    )
    assert (
        dominant["Duet"] == {"revenge", "empowerment"}
        and "revenge and empowerment dominate Duet" in text
    )


def test_lesson_02_figure_descriptions_match_the_data(
    executed: dict[str, Any], corpus: Corpus
) -> None:
    lesson = executed["02-mentorship-power.ipynb"]
    figure, text = described_figure(lesson, "The vocabulary of perfection")
    heatmap = figure["data"][0]
    z = decoded(heatmap["z"])
    rates = {
        (source, label): z[i][j]
        for i, source in enumerate(decoded(heatmap["y"]))
        for j, label in enumerate(decoded(heatmap["x"]))
    }

    def leader(label: str) -> tuple[str, float]:
        return max(((s, v) for (s, lab), v in rates.items() if lab == label), key=lambda t: t[1])

    source, rate = leader("perfection")
    assert f"`{source}` leads on perfection ({rate:.1f} per 1,000 words)" in text
    source, rate = leader("discipline and punishment")
    assert f"`{source}` leads on discipline and punishment ({rate:.1f})" in text
    users = {s for (s, lab), v in rates.items() if lab == "gratitude and debt" and v > 0}
    assert (
        users == {"perfection-explained"}
        and "only source that uses the vocabulary of gratitude" in text
    )

    framing = load_annotation("framing", corpus=corpus)
    _, text = described_figure(lesson, "Who is framed")
    anton = set(framing.loc[framing["character"] == "Anton", "framing"])
    assert (
        anton == {"mentor", "abuser", "villain"}
        and "Anton is framed only as mentor, abuser or villain" in text
    )

    counts = term_counts(CONTENT_TERMS, corpus)
    _, text = described_figure(lesson, "Which texts name the harm")
    sexual = counts["sexual abuse"]
    assert set(sexual.index[sexual > 0]) == {"perfection-explained"}
    assert (
        f"only `perfection-explained` uses the vocabulary of sexual abuse ({sexual.max()} occurrences)"
        in text
    )
    general = counts["abuse (general terms)"]
    assert (
        f"`madness-music-genius` speaks of abuse only in general terms ({general['madness-music-genius']})"
        in text
    )
    reviews = ["play-it-again-lizzie", "worth-watching", "nothing-perfect"]
    assert (counts.loc[reviews, ["sexual abuse", "abuse (general terms)"]] == 0).all().all()


def test_lesson_03_figure_descriptions_match_the_data(
    executed: dict[str, Any], corpus: Corpus
) -> None:
    lesson = executed["03-critical-reception.ipynb"]
    aspects = load_annotation("reception_aspects", corpus=corpus)
    _, text = described_figure(lesson, "What each source praises")
    by = aspects.groupby(["aspect", "stance"])["source"].nunique()
    assert (by["acting", "praise"], by["acting", "criticism"]) == (4, 1)
    assert (by["twists", "praise"], by["twists", "criticism"]) == (4, 1)
    assert by["plot logic", "criticism"] == 3 and ("plot logic", "praise") not in by.index
    assert "plot logic is criticised by three sources and praised by none" in text

    scores = paragraph_sentiment(corpus)
    lowest = scores.loc[scores["compound"].idxmin()]
    _, text = described_figure(lesson, "VADER sentiment")
    assert f"({lowest['compound']:.2f})".replace("-", "−") in text
    assert f"is in `{lowest['source']}`" in text
    by_source = scores.groupby("source")["compound"]
    assert (by_source.min() < -0.6).all() and (by_source.max() > 0.8).all()

    figure, text = described_figure(lesson, "How VADER's lexicon")
    bars = dict(zip(decoded(figure["data"][0]["y"]), decoded(figure["data"][0]["x"]), strict=True))
    two_lowest = sorted(bars, key=bars.__getitem__)[:2]
    assert two_lowest == ["horrific", "violence"]
    valence = lexicon_valence(["horrific", "violence", "horror", "perfection"])
    assert (
        f"horrific ({signed(valence['horrific'])}) and violence ({signed(valence['violence'])})"
        in text
    )
    assert f"horror itself is rated {signed(valence['horror'])}" in text
    assert f"perfection, is rated {signed(valence['perfection'])}" in text

    spellings = spelling_table(corpus=corpus)
    _, text = described_figure(lesson, "How each source spells")
    owners = spellings.groupby("spelling")["source"].agg(set)
    assert owners["Steven Webber"] == owners["Richard Shephard"] == {"nothing-perfect"}
    assert "`nothing-perfect` alone writes Steven Webber and Richard Shephard" in text
    assert owners["Steven Weber"] == {"play-it-again-lizzie"}
    assert "`play-it-again-lizzie` alone writes Steven Weber" in text
    madness = set(spellings.loc[spellings["source"] == "madness-music-genius", "spelling"])
    assert {"Richard Shepard", "Richard Shepherd"} <= madness
    assert "`madness-music-genius` uses both Shepard and Shepherd" in text


# ---------------------------------------------------------------------------------------------
# The worked answers are marked right


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("answered") / "course"
    folder.mkdir()
    shutil.copy(REPO / "course" / "sample-essay.md", folder)
    for name, answers in ANSWERS.items():
        notebook = read(course_dir() / name)
        filled = set()
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            for variable, value in answers.items():
                pattern = rf"^{variable} = .*$"
                if re.search(pattern, cell.source, re.M):
                    cell.source = re.sub(
                        pattern, f"{variable} = {value!r}", cell.source, flags=re.M
                    )
                    filled.add(variable)
        assert filled == set(answers), f"{name}: no answer cell for {set(answers) - filled}"
        nbformat.write(notebook, folder / name)
    runs = execute_lessons(folder.parent / "out", paths=sorted(folder.glob("*.ipynb")), jobs=2)
    return {run.source.name: read(run.executed) for run in runs}


def test_worked_answers_are_marked_correct(answered: dict[str, Any]) -> None:
    for name, notebook in answered.items():
        printed = self_check_outputs(notebook)
        verdicts = [
            line
            for text in printed
            for line in text.splitlines()
            if line.startswith(("Correct", "Not yet", "Not answered", "Could not"))
        ]
        assert verdicts and all(v.startswith("Correct") for v in verdicts), (name, verdicts)
