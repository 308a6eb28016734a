"""A DuckDB connection that records the SQL it runs: to show user text never reaches it."""

from __future__ import annotations


class SpyConnection:
    """A DuckDB connection that records every SQL text it is asked to run."""

    def __init__(self, con, log: list[str]):
        self._con, self._log = con, log

    def execute(self, query, *args, **kwargs):
        self._log.append(str(query))
        return self._con.execute(query, *args, **kwargs)

    def sql(self, query, *args, **kwargs):
        self._log.append(str(query))
        return self._con.sql(query, *args, **kwargs)

    def cursor(self):
        return SpyConnection(self._con.cursor(), self._log)

    def __getattr__(self, name):
        return getattr(self._con, name)
