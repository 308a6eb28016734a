"""``python -m tradesentry`` and the ``tradesentry`` command: the command line of ``cli``.

The command line is imported here, inside the handling of Ctrl-C: importing it (pandas,
DuckDB, NumPy…) takes a second, and a Ctrl-C in that second ended in a 35-line traceback
instead of the one line and exit code 130 every command gives.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130


def main() -> None:
    try:
        from tradesentry.cli import app
    except KeyboardInterrupt:
        sys.stderr.write("tradesentry: interrupted while starting; nothing was done\n")
        raise SystemExit(INTERRUPTED) from None
    app(prog_name="tradesentry")


if __name__ == "__main__":
    main()
