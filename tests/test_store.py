"""The store's connection is left ready for the caller's own queries."""

from __future__ import annotations

from tradesentry.store import open_store


def test_a_store_opened_read_only_leaves_its_connection_free(demo_store):
    """Opening read-only asks the schema's version and which columns there are; an answer
    left half-read (DuckDB's fetchone) would refuse the caller's next query on ``con``."""
    path = demo_store.path
    demo_store.close()
    with open_store(path, read_only=True) as st:
        assert st.con.sql("SELECT count(*) FROM observations").fetchall()[0][0] > 0
        assert len(st.releases()) == 1
        assert st.con.sql("SELECT 1").fetchall() == [(1,)]
