"""The database refuses a figure whose KPI is not of its return's pathway.

Why triggers. A CheckConstraint cannot look at another table, and the alternative, copying
``pathway`` onto Figure and tying it to both ``ret.pathway`` and ``kpi.pathway``, needs composite
foreign keys ((ret_id, pathway_id) -> reports_return (id, pathway_id), and likewise for the KPI),
which Django cannot declare; without them the copied column is just one more value that can
disagree, so it would itself need a trigger to be trusted. A trigger states the rule once, where
every write passes (the ORM's save, ``QuerySet.update``, the admin, raw SQL), and changes no
model or query. So each database gets the same three triggers, written in its own dialect:

* a figure inserted, or its return or KPI changed, must have a KPI of its return's pathway;
* a return cannot be moved to another pathway while it holds figures of its own pathway's KPIs;
* a KPI cannot be moved to another pathway while figures of it sit in returns of its pathway.

Each refuses with an integrity error (PostgreSQL: SQLSTATE 23514, check_violation; SQLite:
RAISE(ABORT), a constraint failure), which Django raises as ``IntegrityError``. A missing return
or KPI is left to the foreign keys (deferred on PostgreSQL).

Caution for later migrations: on SQLite, Django alters a column by rebuilding the table, which
drops its triggers. tests/test_append_only.py checks that the triggers exist in the migrated test
database, so a later migration that rebuilds reports_figure, reports_return or kpis_kpi on SQLite
must re-create them (call ``create_triggers`` again).
"""

from django.db import migrations

MESSAGE = "A figure's KPI must be of its return's pathway"

POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION psis_figure_kpi_of_return_pathway() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM reports_return r, kpis_kpi k
            WHERE r.id = NEW.ret_id AND k.id = NEW.kpi_id AND r.pathway_id <> k.pathway_id
        ) THEN
            RAISE EXCEPTION '{MESSAGE.replace("'", "''")} (return %, KPI %)', NEW.ret_id, NEW.kpi_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER figure_kpi_of_return_pathway
    BEFORE INSERT OR UPDATE OF ret_id, kpi_id ON reports_figure
    FOR EACH ROW EXECUTE FUNCTION psis_figure_kpi_of_return_pathway()
    """,
    f"""
    CREATE OR REPLACE FUNCTION psis_return_pathway_keeps_figures() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM reports_figure f JOIN kpis_kpi k ON k.id = f.kpi_id
            WHERE f.ret_id = NEW.id AND k.pathway_id <> NEW.pathway_id
        ) THEN
            RAISE EXCEPTION '{MESSAGE.replace("'", "''")} (return %)', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER return_pathway_keeps_figures
    BEFORE UPDATE OF pathway_id ON reports_return
    FOR EACH ROW EXECUTE FUNCTION psis_return_pathway_keeps_figures()
    """,
    f"""
    CREATE OR REPLACE FUNCTION psis_kpi_pathway_keeps_figures() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM reports_figure f JOIN reports_return r ON r.id = f.ret_id
            WHERE f.kpi_id = NEW.id AND r.pathway_id <> NEW.pathway_id
        ) THEN
            RAISE EXCEPTION '{MESSAGE.replace("'", "''")} (KPI %)', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER kpi_pathway_keeps_figures
    BEFORE UPDATE OF pathway_id ON kpis_kpi
    FOR EACH ROW EXECUTE FUNCTION psis_kpi_pathway_keeps_figures()
    """,
]

POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS figure_kpi_of_return_pathway ON reports_figure",
    "DROP TRIGGER IF EXISTS return_pathway_keeps_figures ON reports_return",
    "DROP TRIGGER IF EXISTS kpi_pathway_keeps_figures ON kpis_kpi",
    "DROP FUNCTION IF EXISTS psis_figure_kpi_of_return_pathway()",
    "DROP FUNCTION IF EXISTS psis_return_pathway_keeps_figures()",
    "DROP FUNCTION IF EXISTS psis_kpi_pathway_keeps_figures()",
]

_SQLITE_FIGURE_MISMATCH = """
    (SELECT r.pathway_id FROM reports_return r WHERE r.id = NEW.ret_id)
    <> (SELECT k.pathway_id FROM kpis_kpi k WHERE k.id = NEW.kpi_id)
"""
_SQLITE_RAISE = "BEGIN SELECT RAISE(ABORT, '{}'); END".format(MESSAGE.replace("'", "''"))

SQLITE = [
    f"""
    CREATE TRIGGER figure_kpi_of_return_pathway_insert
    BEFORE INSERT ON reports_figure
    WHEN {_SQLITE_FIGURE_MISMATCH}
    {_SQLITE_RAISE}
    """,
    f"""
    CREATE TRIGGER figure_kpi_of_return_pathway_update
    BEFORE UPDATE OF ret_id, kpi_id ON reports_figure
    WHEN {_SQLITE_FIGURE_MISMATCH}
    {_SQLITE_RAISE}
    """,
    f"""
    CREATE TRIGGER return_pathway_keeps_figures
    BEFORE UPDATE OF pathway_id ON reports_return
    WHEN EXISTS (
        SELECT 1 FROM reports_figure f JOIN kpis_kpi k ON k.id = f.kpi_id
        WHERE f.ret_id = NEW.id AND k.pathway_id <> NEW.pathway_id
    )
    {_SQLITE_RAISE}
    """,
    f"""
    CREATE TRIGGER kpi_pathway_keeps_figures
    BEFORE UPDATE OF pathway_id ON kpis_kpi
    WHEN EXISTS (
        SELECT 1 FROM reports_figure f JOIN reports_return r ON r.id = f.ret_id
        WHERE f.kpi_id = NEW.id AND r.pathway_id <> NEW.pathway_id
    )
    {_SQLITE_RAISE}
    """,
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS figure_kpi_of_return_pathway_insert",
    "DROP TRIGGER IF EXISTS figure_kpi_of_return_pathway_update",
    "DROP TRIGGER IF EXISTS return_pathway_keeps_figures",
    "DROP TRIGGER IF EXISTS kpi_pathway_keeps_figures",
]

# The trigger names each database holds once this migration has run (checked by the tests).
TRIGGERS = {
    "postgresql": {
        "figure_kpi_of_return_pathway",
        "return_pathway_keeps_figures",
        "kpi_pathway_keeps_figures",
    },
    "sqlite": {
        "figure_kpi_of_return_pathway_insert",
        "figure_kpi_of_return_pathway_update",
        "return_pathway_keeps_figures",
        "kpi_pathway_keeps_figures",
    },
}


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise NotImplementedError(
            f"No figure-pathway triggers written for {vendor}; add them before migrating."
        )
    for statement in statements_by_vendor[vendor]:
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def drop_triggers(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("kpis", "0004_ragoverride_moves_to_performance"),
        ("reports", "0004_returncomment_history"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
