"""Full-text search, one rule for every list that has a `search` parameter
(reports, cases; their selectors call text_search).

PostgreSQL (production): a tsvector over the searched columns with the
'simple' configuration, matched with websearch_to_tsquery (quotes for
phrases, "or", "-word"). 'simple' lower-cases and
splits on word boundaries but does not stem: the reports are written in
English, French, Ukrainian and Russian, and a stemmer for one of them
(english, french, russian) would mangle the words of the others, so that a
Ukrainian place name could match nothing, or the wrong thing. No stemming
means "shell" does not find "shelling"; exact words do, in every language.
Each table keeps that vector in a generated column with a GIN index
(stored_vector_operations: reports 0012, cases 0014), which the search reads.

Other databases (SQLite in development): every word of the query must occur
(case-insensitively, as a substring) in one of the columns. Cruder, but it
finds the same reports for plain words.

A search narrows a list; it does not reorder it. The list keeps its own
order (newest first; the inbox's chosen sort), so that a page of a search is
the list's own keyset scan with one more condition. Until 2026-12 a search
put the best match first (ts_rank), and ranking must read every match before
it can keep a page: at a mission's size a common word is in a third of the
cases and reports, and "shelling" took 36 ms over 34,000 cases and 1.7-3.6 s
over 334,000 reports, against 1-3 ms newest first (BENCHMARKS.md, "A search
keeps the list's order"). ts_rank with 'simple' and no weights mostly counts
how often a word occurs, which says little about which case matters; the
newest matches are what a commission reads first, as in the list itself.
"""

import re

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorField
from django.db import connections, migrations
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

CONFIG = "simple"
# A query longer than this is cut: a search box, not a document upload.
QUERY_MAX = 200
# Up to this many matches, a search reads their ids first and pages over
# them (text_search says why).
FEW = 200


def search_vector(*fields: str) -> SearchVector:
    return SearchVector(*fields, config=CONFIG)


def text_search_index(*fields: str, name: str) -> GinIndex:
    """A GIN index on the expression itself, so the planner can match it:
    the apps' first search migrations (NNNN_search) added it, and undoing
    stored_vector_operations puts it back."""
    return GinIndex(search_vector(*fields), name=name)


def normalise(query: str | None) -> str:
    """The query as searched: NUL characters dropped (PostgreSQL refuses
    them), spaces collapsed, at most QUERY_MAX characters."""
    return " ".join((query or "").replace("\x00", " ").split())[:QUERY_MAX]


def uses_full_text(qs: QuerySet) -> bool:
    return connections[qs.db].vendor == "postgresql"


def text_search(qs: QuerySet, query: str | None, *, fields: tuple[str, ...], extra: Q | None = None,
                full_text: bool | None = None, stored: str | None = None, few: int = FEW) -> QuerySet:
    """`qs` narrowed to the rows matching `query` in `fields` (or `extra`,
    e.g. a reference), in `qs`'s own order; `qs` itself for an empty query.

    `full_text` forces a branch (None: PostgreSQL full text if the database
    is PostgreSQL, the substring fallback otherwise). `stored`: the column
    where the table keeps that very vector (stored_vector_operations),
    matched instead of computing to_tsvector again for each row the list's
    scan reads.

    On PostgreSQL this reads up to `few` + 1 matching ids first (one query),
    and where there are no more than `few` the list is narrowed to those ids.
    Why: a page is the newest rows that match (ORDER BY id DESC LIMIT 51),
    and PostgreSQL plans it from its estimate of how many rows match. For a
    word it has no statistics for (a typo, a word no report has) or words
    that never occur together (`kinburn -spit`) it guesses thousands, walks
    the id index from the newest row testing each, and finds nothing: every
    row of the table read, 434 ms for a million reports, 34 ms for 100,000
    cases. The probe has no order, so PostgreSQL reads the GIN index for a
    rare word (under 1 ms when nothing matches) and stops after `few` + 1
    rows for a common one (1-5 ms for the inbox's reports, pgbench; 3-14 ms
    with `few` at 1,000). The page then reads the ids it was given, or, for
    a word with more matches than `few`, walks the newest rows as before,
    which fill the page within a few hundred rows where the word is common
    now (a word with a few hundred matches, all of them old, still makes it
    walk far). The result is the same rows in the same order as the match
    itself (tests/test_search.py compares); the ids are read a moment before
    the page, as any read is a moment old when shown."""
    query = normalise(query)
    if not query:
        return qs
    if full_text is None:
        full_text = uses_full_text(qs)
    if full_text:
        matching = _full_text_match(qs, query, fields=fields, extra=extra, stored=stored)
        ids = list(matching.order_by().values_list("pk", flat=True)[:few + 1])
        return qs.filter(pk__in=ids) if len(ids) <= few else matching
    # websearch's syntax (quotes, "or", a leading "-") is read as plain words here.
    words = [w.lstrip("-") for w in re.split(r"\s+", query.replace('"', " ")) if w.lower() != "or"]
    words = [w for w in words if w]
    match = Q()
    for word in words:
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": word})
        match &= any_field
    if extra is not None:
        match |= extra
    return qs.filter(match)


def _full_text_match(qs: QuerySet, query: str, *, fields: tuple[str, ...], extra: Q | None,
                     stored: str | None) -> QuerySet:
    """`qs` narrowed to the rows whose vector matches `query` (websearch
    syntax), or `extra`."""
    tsquery = SearchQuery(query, config=CONFIG, search_type="websearch")
    if stored:
        qn = connections[qs.db].ops.quote_name
        vector = RawSQL(f"{qn(qs.model._meta.db_table)}.{qn(stored)}", [],  # noqa: S611 (quoted names, no input)
                        output_field=SearchVectorField())
    else:
        vector = search_vector(*fields)
    match = Q(search_match=tsquery)
    if extra is not None:
        match |= extra
    # The vector is an alias (in WHERE only), not a column of the result.
    return qs.alias(search_match=vector).filter(match)


def index_operations(model_name: str, *, fields: tuple[str, ...], name: str) -> list:
    """The migration operations that add text_search_index to a model, on
    PostgreSQL only. Not in the model's Meta: SQLite has no GIN, and it
    rebuilds a table (with every index in its Meta) on many an AlterField, so
    a GIN index there would break later migrations on development machines."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(apps.get_model(*model_name.split(".")), text_search_index(*fields, name=name))

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_index(apps.get_model(*model_name.split(".")), text_search_index(*fields, name=name))

    return [migrations.RunPython(forwards, backwards, elidable=False)]


def stored_vector_operations(model_name: str, *, fields: tuple[str, ...], column: str, index: str,
                             replaces: str) -> list:
    """On PostgreSQL only, the vector of `fields` kept in a generated column
    (`column`, GENERATED ALWAYS AS ... STORED) with its GIN index (`index`),
    in place of the expression index `replaces`; text_search(stored=column)
    reads it.

    Why: a search pages the list in its own order, and where a word is
    common PostgreSQL walks the list's index and tests each row it reads
    until the page is full; for a word that is rare among the newest rows it
    may read most of the table. From a stored vector each test is a lookup
    (all 100,000 cases of a mission in 27 ms); with only an expression index
    it is to_tsvector again per row (4.3 s over a million reports). It also
    first served ranking: 85 ms against 3 ms for the 3,490 cases that said
    "shelling" among 10,000. The database keeps the column current on every
    write, so no code path can forget it; the column stays out of the model
    because SQLite has no tsvector (the same reason as index_operations)."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(*model_name.split("."))
        qn = schema_editor.quote_name
        table = qn(model._meta.db_table)
        # SearchVector's own SQL, so that the stored vector is exactly what
        # the expression path computes (tests/commission/test_case_search.py compares).
        text = " || ' ' || ".join(f"COALESCE({qn(model._meta.get_field(f).column)}::text, '')" for f in fields)
        schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN {qn(column)} tsvector "
                              f"GENERATED ALWAYS AS (to_tsvector('{CONFIG}'::regconfig, {text})) STORED")
        schema_editor.execute(f"CREATE INDEX {qn(index)} ON {table} USING gin ({qn(column)})")
        schema_editor.execute(f"DROP INDEX IF EXISTS {qn(replaces)}")

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(*model_name.split("."))
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} "
                              f"DROP COLUMN {schema_editor.quote_name(column)}")
        schema_editor.add_index(model, text_search_index(*fields, name=replaces))

    return [migrations.RunPython(forwards, backwards, elidable=False)]
