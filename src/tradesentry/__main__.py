"""``python -m tradesentry``: the same command line as ``tradesentry``."""

from tradesentry.cli import app

if __name__ == "__main__":
    app(prog_name="tradesentry")
