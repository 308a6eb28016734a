"""Watch a folder (or UN Comtrade) for new releases: ingest, scan, write the digest, notify.

One cycle is: look at the folder, ingest every file that has stopped changing, fetch the
watchlist when it is due, and for the releases the watch has not yet told of: scan where
no full scan has seen them, write a digest of each, and post the new findings to the
webhook. Each step is logged; a step that fails is retried a few times with a doubling
pause, then reported and left for the next cycle. Nothing a step raises stops the watch.

A file is complete when its size and modification time are the same at two looks in a
row; names ending in ``.part``, ``.tmp`` (and the like) or starting with a dot are never
read, so a writer that renames when done is always safe. A file that cannot be read is
not tried again until it changes. The store is opened for each cycle and closed after,
so other commands can read it between polls. When each watchlist entry was last fetched
is kept beside the store (``<store>.fetch/watch-fetched.json``), so the watchlist's
interval holds across runs of ``watch --once``, and so are the webhook messages not yet
delivered (``<store>.fetch/watch-webhook-pending.json``), sent first by the next run.
That file is the queue of every watch on the store: each change to it is made under a lock
on it, so a running watch and a cron job's ``--once`` post each message once. The newest
release the watch has digested and told of is kept there too
(``<store>.fetch/watch-notified.json``): a release someone scanned or digested by hand
between two runs is still told of, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import tomllib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from tradesentry.errors import FetchError, InputError, raise_if_interrupted
from tradesentry.store import Store, open_store
from tradesentry.text import plural

log = logging.getLogger("tradesentry.monitor")
T = TypeVar("T")

IGNORED_SUFFIXES = frozenset(
    {".part", ".tmp", ".temp", ".partial", ".crdownload", ".download", ".swp", ".lock"}
)
FETCH_KEYS = ("reporter", "partner", "freq", "period", "flow", "commodity", "classification")
DEFAULT_FETCH_INTERVAL = 3600.0  # UN Comtrade publishes at most daily; once an hour is plenty
MAX_PENDING = 20  # undelivered webhook messages kept for the next cycle
Signature = tuple[int, int]  # size in bytes, mtime in ns


# -- the folder ------------------------------------------------------------------------------


def ignored(path: Path) -> bool:
    """Temporary and hidden files: a writer's work in progress, never a release."""
    return path.name.startswith((".", "~")) or path.suffix.lower() in IGNORED_SUFFIXES


class Folder:
    """The files of a folder that have stopped changing since the last look.

    ``memory``: a file that keeps, across runs, the files already read (or found unreadable)
    as they were then, so that ``watch --once`` from cron does not fail again on a bad file
    every run; a file that changes is read again."""

    def __init__(self, path: Path, memory: Path | None = None):
        self.path = Path(path)
        self.memory = memory
        self._seen: dict[Path, Signature] = {}
        self._done: dict[Path, Signature] = {}
        if memory is not None and memory.exists():
            try:
                kept = json.loads(memory.read_text(encoding="utf-8"))["done"]
                self._done = {self.path / name: (int(a), int(b)) for name, (a, b) in kept.items()}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("%s: unreadable (%s); every file is read again", memory, exc)

    def poll(self) -> tuple[list[tuple[Path, Signature]], list[Path]]:
        """(ready, waiting): files unchanged since the last look, and files still changing."""
        now: dict[Path, Signature] = {}
        for path in self.path.iterdir():
            if ignored(path) or not path.is_file():
                continue
            stat = path.stat()
            if stat.st_size > 0:
                now[path] = (stat.st_size, stat.st_mtime_ns)
        ready, waiting = [], []
        for path, sig in now.items():
            if self._done.get(path) == sig:
                continue
            if self._seen.get(path) == sig:
                ready.append((path, sig))
            else:
                waiting.append(path)
        self._seen = now
        ready.sort(key=lambda item: (item[1][1], item[0].name))  # in the order they arrived
        return ready, sorted(waiting)

    def done(self, path: Path, sig: Signature) -> None:
        """Do not look at this file again until it changes."""
        self._done[path] = sig
        if self.memory is None:
            return
        here = {p: v for p, v in self._done.items() if p.exists()}  # files gone are forgotten
        try:
            replace_text(
                self.memory, json.dumps({"done": {p.name: v for p, v in here.items()}}) + "\n"
            )
        except OSError as exc:
            log.warning("%s: cannot keep the files read (%s)", self.memory, exc)


# -- the watchlist -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Watchlist:
    """Series to fetch from UN Comtrade, and how often (seconds)."""

    series: tuple[dict, ...]
    interval: float = DEFAULT_FETCH_INTERVAL


def load_watchlist(path: str | os.PathLike) -> Watchlist:
    """Read the TOML watchlist; InputError names what is wrong (checked before watching).

    ```toml
    interval = 86400            # seconds between fetches (default 3600)
    [[series]]
    reporter = "CHN"
    partner = "PRK"
    freq = "M"
    period = "2021"
    flow = "X,M"                # optional, like commodity and classification
    ```
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read the watchlist ({exc})") from exc
    entries = data.get("series")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: expected one or more [[series]] tables")
    series = tuple(_entry(path, i, e) for i, e in enumerate(entries, 1))
    interval = data.get("interval", DEFAULT_FETCH_INTERVAL)
    if not isinstance(interval, int | float) or interval <= 0:
        raise InputError(f"{path}: interval must be a positive number of seconds")
    return Watchlist(series, float(interval))


def _entry(path, number: int, entry: Any) -> dict:
    if not isinstance(entry, dict):
        raise InputError(f"{path}: series {number} is not a table")
    unknown = sorted(set(entry) - set(FETCH_KEYS))
    missing = [k for k in ("reporter", "partner", "freq", "period") if k not in entry]
    if unknown or missing:
        what = (
            f"unknown key(s) {', '.join(unknown)}" if unknown else f"missing {', '.join(missing)}"
        )
        raise InputError(f"{path}: series {number}: {what} (keys: {', '.join(FETCH_KEYS)})")
    return {k: str(v) for k, v in entry.items()}


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a ``.tmp`` beside it, renamed), making
    its folder: a reader, or a watch stopped midway, never sees half a file, and a write
    that fails leaves no ``.tmp`` behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except BaseException:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        raise


# -- the digests a failed step still owes ----------------------------------------------------

OWED_NAME = "watch-digests-owed.json"


def owed_path(store_path: str | os.PathLike) -> Path:
    """``<store>.fetch/watch-digests-owed.json``: releases whose digest could not be written."""
    return Path(f"{store_path}.fetch") / OWED_NAME


def load_owed(path: Path) -> list[tuple[int, int]]:
    """The (release, scan) digests an earlier cycle owes (an unreadable file owes none,
    said): each with the scan it was to be written from, so that writing it later runs
    no scan of its own."""
    if not path.exists():
        return []
    try:
        owed = json.loads(path.read_text(encoding="utf-8"))["digests"]
        return [(int(release), int(scan)) for release, scan in owed]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: unreadable (%s); the digests it listed are not retried", path, exc)
        return []


def save_owed(path: Path, owed: list[tuple[int, int]]) -> None:
    try:
        if owed:
            replace_text(path, json.dumps({"digests": owed}) + "\n")
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("%s: cannot keep the digests still owed (%s)", path, exc)


# -- the releases the watch has told of ----------------------------------------------------------

NOTIFIED_NAME = "watch-notified.json"


def notified_path(store_path: str | os.PathLike) -> Path:
    """``<store>.fetch/watch-notified.json``: the newest release the watch has told of."""
    return Path(f"{store_path}.fetch") / NOTIFIED_NAME


def load_notified(path: Path) -> int | None:
    """The newest release the watch has digested and queued for the webhook (each earlier
    one too: release ids only grow); None where the file is absent, or unreadable (said),
    and the watch then takes the store as one it has never seen."""
    if not path.exists():
        return None
    try:
        release = json.loads(path.read_text(encoding="utf-8"))["release"]
        if not isinstance(release, int) or isinstance(release, bool) or release < 0:
            raise TypeError(f"release {release!r} is not a release id")
        return release
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: unreadable (%s); the store is taken as one not watched before", path, exc)
        return None


def save_notified(path: Path, release: int) -> bool:
    """Keep ``release`` as the newest told of; False (and a warning) where it cannot be."""
    try:
        replace_text(path, json.dumps({"release": int(release)}) + "\n")
        return True
    except OSError as exc:
        log.warning("%s: cannot keep the releases told of (%s)", path, exc)
        return False


# -- the webhook messages not yet delivered -----------------------------------------------------

PENDING_NAME = "watch-webhook-pending.json"


def folder_memory_path(store_path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """``<store>.fetch/watch-folder-<hash>.json``: the files of ``folder`` already read."""
    key = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:12]
    return Path(f"{store_path}.fetch") / f"watch-folder-{key}.json"


def pending_path(store_path: str | os.PathLike) -> Path:
    """``<store>.fetch/watch-webhook-pending.json``: beside the watch's fetch times."""
    return Path(f"{store_path}.fetch") / PENDING_NAME


def load_pending(path: Path) -> list[dict]:
    """The messages an earlier run could not deliver. A file that cannot be read is moved
    aside (``.bad``, logged once: a queue lost is said, not silently dropped), and a
    message that is not one the watch wrote (a text and a list of findings) is dropped
    from it, said once (each read of the queue had said it again). Call it under
    ``locked(path)``: it may write the file."""
    if not path.exists():
        return []
    try:
        messages = json.loads(path.read_text(encoding="utf-8"))["messages"]
        if not isinstance(messages, list):
            raise TypeError("messages is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        aside = path.with_name(path.name + ".bad")
        log.warning("%s: unreadable (%s); moved to %s, its messages unsent", path, exc, aside.name)
        with suppress(OSError):
            path.replace(aside)
        return []
    kept = [m for m in messages if _deliverable(m)]
    if len(kept) < len(messages):
        log.warning(
            "%s: %d message(s) not in the webhook's shape dropped", path, len(messages) - len(kept)
        )
        save_pending(path, kept)
    return kept


def _deliverable(message) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("text"), str)
        and isinstance(message.get("findings"), list)
    )


def save_pending(path: Path, messages: list[dict]) -> bool:
    """Keep the undelivered messages for the next run (``watch --once`` from cron); the
    file goes once all are delivered. False (and a warning) where it cannot be written."""
    try:
        if not messages:
            path.unlink(missing_ok=True)
            return True
        replace_text(path, json.dumps({"messages": messages}, indent=1) + "\n")
        return True
    except OSError as exc:
        log.warning("%s: cannot keep the undelivered webhook messages (%s)", path, exc)
        return False


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` + ``.lock`` while the block runs (another watch of the
    same store waits). Where no lock can be had (no ``fcntl``, a folder that cannot be
    written) the block runs unlocked: one watch alone needs none."""
    try:
        import fcntl
    except ImportError:  # Windows: one watch per store
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "a")  # noqa: SIM115 (held below)
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- when each entry was last fetched -----------------------------------------------------------

FETCH_STATE_NAME = "watch-fetched.json"


def fetch_state_path(store_path: str | os.PathLike) -> Path:
    """``<store>.fetch/watch-fetched.json``: beside the files the fetches saved."""
    return Path(f"{store_path}.fetch") / FETCH_STATE_NAME


def entry_key(entry: dict) -> str:
    """A watchlist entry as one string: the same series gives the same key in any key order."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


class FetchState:
    """When each watchlist entry was last fetched, kept in a small JSON file.

    So the watchlist's interval holds across runs: ``watch --once`` from cron every
    minute fetches once an interval, not once a run. A file that cannot be read is
    taken as empty (the entries are due), and one that cannot be written is logged: the
    fetch itself has happened, and a running watch still keeps the time in memory.
    """

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, dict] = {}
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["entries"]
            if not isinstance(entries, dict):
                raise TypeError("entries is not a table")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: unreadable (%s); every watchlist entry is due", path, exc)
            return
        self.entries = {k: v for k, v in entries.items() if isinstance(v, dict)}

    def last(self, entry: dict) -> float | None:
        value = self.entries.get(entry_key(entry), {}).get("last_fetch")
        return float(value) if isinstance(value, int | float) else None

    def record(self, entry: dict, when: float) -> None:
        try:
            utc = datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            utc = None
        self.entries[entry_key(entry)] = {"series": entry, "last_fetch": when, "utc": utc}
        text = json.dumps({"entries": self.entries}, indent=1, sort_keys=True) + "\n"
        try:
            replace_text(self.path, text)
        except OSError as exc:
            log.warning("%s: cannot keep the fetch time (%s)", self.path, exc)


def _duration(seconds: float) -> str:
    """3h20m, 45m, 12s: how long ago, how long to wait."""
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        hours, rest = divmod(seconds, 3600)
        return f"{hours}h{rest // 60:02d}m" if rest >= 60 else f"{hours}h"
    if seconds >= 60:
        return f"{seconds // 60}m"
    return f"{seconds}s"


# -- retries -----------------------------------------------------------------------------------


class StepFailed(Exception):
    """A step still failed after its retries (the watcher reports it and carries on)."""


def attempt(
    step: str,
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    permanent: tuple[type[BaseException], ...] = (InputError,),
) -> T:
    """Call ``fn``; on an error retry up to ``attempts`` times, pausing 1×, 2×, 4× ``backoff``.

    Errors in ``permanent`` (bad input: trying again cannot help) are raised at once.
    """
    for number in range(1, attempts + 1):
        try:
            return fn()
        except permanent:
            raise
        except Exception as exc:
            raise_if_interrupted(exc)  # an interrupted query is Ctrl-C, not a failure
            if number == attempts:
                raise StepFailed(f"{step}: {exc} (gave up after {attempts} attempts)") from exc
            pause = backoff * 2 ** (number - 1)
            log.warning(
                "%s failed (attempt %d of %d): %s; retrying in %.1fs",
                step,
                number,
                attempts,
                exc,
                pause,
            )
            sleep(pause)
    raise AssertionError("unreachable")


# -- the watcher -------------------------------------------------------------------------------


@dataclass
class CycleReport:
    """What one cycle did: for logs, tests and the --once exit."""

    ingested: list[dict] = field(default_factory=list)
    scan_id: int | None = None
    new: int = 0
    resolved: int = 0
    digests: list[Path] = field(default_factory=list)
    posted: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Watcher:
    """The watch loop; ``run(max_iterations=…)`` ends, ``run()`` watches until interrupted.

    ``store`` is a path (opened for each cycle, so the lock is free between polls) or an
    open Store (kept open: for tests and notebooks). ``sleep``, ``clock``, ``fetch`` and
    ``post`` can be replaced, so tests run without waiting or a network.
    """

    store: Store | str | os.PathLike
    folder: Path | None = None
    interval: float = 60.0
    webhook: str | None = None
    watchlist: Watchlist | None = None
    out: Path | None = None
    digest_format: str = "md"
    attempts: int = 3
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time  # wall clock: fetch times outlive the process
    fetch: Callable[..., Any] | None = None
    post: Callable[[str, dict], int] | None = None
    pending: list[dict] = field(default_factory=list)
    _folder: Folder | None = field(default=None, init=False, repr=False)
    _fetched: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _said_not_due: bool = field(default=False, init=False, repr=False)
    _webhook_down: bool = field(default=False, init=False, repr=False)
    _pending_file: Path = field(default=Path(), init=False, repr=False)
    _owed_file: Path = field(default=Path(), init=False, repr=False)
    _notified_file: Path = field(default=Path(), init=False, repr=False)
    #: the newest release told of, where its file could not be written
    _notified: int | None = field(default=None, init=False, repr=False)
    _tried: set[int] = field(default_factory=set, init=False, repr=False)  # digests, a cycle
    _synced: list[dict] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        store_path = self.store.path if isinstance(self.store, Store) else self.store
        if self.folder is not None:
            self._folder = Folder(self.folder, folder_memory_path(store_path, self.folder))
            self.out = self.out or Path(self.folder) / "digests"
        self.out = Path(self.out or "digests")
        # what an earlier run could not deliver goes first (a cron job's --once runs)
        self._owed_file = owed_path(store_path)
        self._notified_file = notified_path(store_path)
        self._pending_file = pending_path(store_path)
        if self._pending_file.exists():
            with locked(self._pending_file):
                self._synced = load_pending(self._pending_file)
        self.pending[:0] = self._synced

    @contextmanager
    def _queue(self) -> Iterator[list[dict]]:
        """The undelivered messages for one change, read from their file under its lock and
        written back after: the file is the queue of every watch on the store, so a message
        another watch delivered meanwhile is gone from it and not posted again. A message
        this watch queued that is not in the file yet (the file could not be written, or
        it was handed in) stays queued."""
        with locked(self._pending_file):
            on_file = load_pending(self._pending_file)
            added = [m for m in self.pending if m not in self._synced and m not in on_file]
            self.pending[:] = on_file + added
            yield self.pending
            self._save_queue()

    def _save_queue(self) -> None:
        if save_pending(self._pending_file, self.pending):
            self._synced = list(self.pending)

    # -- the loop ------------------------------------------------------------------------
    def run(self, max_iterations: int | None = None) -> list[CycleReport]:
        """Cycle every ``interval`` seconds; the first cycle comes after a short settle."""
        reports: deque[CycleReport] = deque(maxlen=100)
        if self._folder is not None:
            self._step(CycleReport(), "look at the folder", self._folder.poll)
        settle = min(self.interval, 2.0)
        done = 0
        while max_iterations is None or done < max_iterations:
            self.sleep(settle if done == 0 else self.interval)
            try:
                reports.append(self.cycle())
            except Exception as exc:  # a bug in a step must not end the watch either
                raise_if_interrupted(exc)
                log.exception("watch cycle failed; watching on")
                reports.append(CycleReport(errors=[f"watch cycle failed: {exc!r}"]))
            done += 1
        return list(reports)

    def cycle(self) -> CycleReport:
        """One pass: ingest, fetch, scan, digest, notify."""
        report = CycleReport()
        self._tried.clear()
        with self._open(report) as st:
            if st is not None:
                self._ingest_folder(st, report)
                self._fetch(st, report)
                self._scan(st, report)
                self._write_owed_digests(st, report)
        self._notify(report)
        return report

    @contextmanager
    def _open(self, report: CycleReport) -> Iterator[Store | None]:
        if isinstance(self.store, Store):
            yield self.store
            return
        st = self._step(report, "open the store", lambda: open_store(self.store))
        try:
            yield st
        finally:
            if st is not None:
                st.close()

    def _step(
        self,
        report: CycleReport,
        step: str,
        fn: Callable[[], T],
        *,
        attempts: int | None = None,
        permanent: tuple[type[BaseException], ...] = (InputError,),
    ) -> T | None:
        """Run a step with retries; on failure log and report it, and return None."""
        try:
            return attempt(
                step,
                fn,
                attempts=attempts or self.attempts,
                backoff=self.backoff,
                sleep=self.sleep,
                permanent=permanent,
            )
        except Exception as exc:
            message = str(exc) if isinstance(exc, StepFailed) else f"{step}: {exc}"
            # one log line: a fetch's error has a second line naming what it stored
            message = "; ".join(line.strip() for line in message.splitlines() if line.strip())
            log.error("%s", message)
            report.errors.append(message)
            return None

    # -- steps ---------------------------------------------------------------------------
    def _ingest_folder(self, st: Store, report: CycleReport) -> None:
        if self._folder is None:
            return
        polled = self._step(report, "look at the folder", self._folder.poll)
        if polled is None:
            return
        ready, waiting = polled
        for path in waiting:
            log.info("%s: seen; ingested once it stops changing", path.name)
        for path, sig in ready:
            result = self._ingest_one(st, path, report)
            if result is not False:  # read, or unreadable as it is: wait for a change
                self._folder.done(path, sig)

    def _ingest_one(self, st: Store, path: Path, report: CycleReport):
        try:
            result = attempt(
                f"ingest {path.name}",
                lambda: st.ingest(path),
                attempts=self.attempts,
                backoff=self.backoff,
                sleep=self.sleep,
            )
        except InputError as exc:
            log.error("ingest %s: %s (tried again when the file changes)", path.name, exc)
            report.errors.append(f"ingest {path.name}: {exc}")
            return None
        except Exception as exc:
            log.error("%s", exc)
            report.errors.append(str(exc))
            return False
        if result.already_ingested:
            log.info("%s: already in the store as release %d", path.name, result.release_id)
        else:
            # a file of which nothing landed is said louder: the ingest command exits 2 on it
            nothing = result.rows_read and not result.rows_accepted
            log.log(
                logging.WARNING if nothing else logging.INFO,
                "%s: release %d, %s accepted, %d quarantined",
                path.name,
                result.release_id,
                plural(result.rows_accepted, "row"),
                result.rows_quarantined,
            )
            report.ingested.append(result.to_dict())
        return result

    def _fetch(self, st: Store, report: CycleReport) -> None:
        """Fetch each watchlist entry whose last fetch is ``interval`` old (kept across runs)."""
        if self.watchlist is None:
            return
        state = FetchState(fetch_state_path(st.path))
        fetch = self.fetch or _fetch_comtrade
        for entry in self.watchlist.series:
            label = f"fetch {entry['reporter']}-{entry['partner']} {entry['period']}"
            now = self.clock()
            times = [state.last(entry), self._fetched.get(entry_key(entry))]
            last = max((t for t in times if t is not None), default=None)
            if last is not None and 0 <= now - last < self.watchlist.interval:
                wait = self.watchlist.interval - (now - last)
                log.log(
                    logging.DEBUG if self._said_not_due else logging.INFO,
                    "%s: not due (last fetched %s ago, interval %s); next in %s",
                    label,
                    _duration(now - last),
                    _duration(self.watchlist.interval),
                    _duration(wait),
                )
                continue
            stored: list = []  # releases a failed attempt stored before it stopped

            def run(e: dict = entry, into: list = stored) -> Any:
                try:
                    return fetch(st, **e)
                except Exception as exc:
                    into.extend(getattr(exc, "fetched", None) or [])
                    raise

            fetched = self._step(  # the client retries HTTP itself: a FetchError is final
                report, label, run, permanent=(InputError, FetchError)
            )
            # A fetch that failed counts too: a failing API is not asked again every cycle.
            self._fetched[entry_key(entry)] = now
            state.record(entry, now)
            fresh = {r.release_id: r for r in [*stored, *(fetched or [])] if not r.already_ingested}
            if fetched is not None or fresh:  # a failure's error said it: no "0 new" after it
                log.info("%s: %d new release(s)", label, len(fresh))
            report.ingested.extend(r.to_dict() for r in fresh.values())
        self._said_not_due = True

    def _scan(self, st: Store, report: CycleReport) -> None:
        """Digest and queue every release the watch has not told of, scanning first where
        no full scan has seen the newest. Which releases is the watch's own record, not the
        scans: a `digest` run by hand between two runs scans the newest release, and the
        watch, which acted on a release no full scan had seen, never told of it."""
        from tradesentry import api
        from tradesentry.monitor import history, webhook

        told, newest = self._told(st, report), _newest_release(st)
        if newest is None or newest <= told:
            return
        seen = _watermark(st)
        scan_id = _first_full_scan(st, newest) if seen is not None and seen >= newest else None
        scanned_before = scan_id is not None
        if scan_id is None:
            found = self._step(report, "scan", lambda: api.scan(st))
            if found is None:
                return  # told of nothing: the next cycle scans again
            scan_id = found.scan_id
        # every release since the last told of: a scan that failed in an earlier cycle left
        # those it would have digested to this one. Their new findings are the digest's:
        # the scan against the last one with its parameters before the first of them landed
        # (the scan a `digest` ran by hand in between is no baseline: it saw them)
        releases = _releases_after(st, told)
        new, resolved = history.diff(st, scan_id, history.baseline_for(st, releases[0], scan_id))
        report.scan_id, report.new, report.resolved = scan_id, len(new), len(resolved)
        log.info(
            "scan %d%s: %d findings, %d new, %d resolved",
            scan_id,
            " (run before the watch saw the release)" if scanned_before else "",
            _findings_of(st, scan_id),
            len(new),
            len(resolved),
        )
        for release in releases:  # each from its own first full scan, as `digest` reads it
            self._write_digest(st, release, _first_full_scan(st, release) or scan_id, report)
        if self.webhook and (len(new) or len(resolved)):
            landed = [_release_brief(st, r) for r in releases]
            message = webhook.payload(new, resolved, landed)
            with self._queue() as queue:
                queue.append(message)
                if len(queue) > MAX_PENDING:
                    dropped = len(queue) - MAX_PENDING
                    log.warning(
                        "webhook: %d oldest undelivered message(s) dropped (at most %d kept)",
                        dropped,
                        MAX_PENDING,
                    )
                    del queue[:dropped]
        self._tell(newest)

    def _told(self, st: Store, report: CycleReport) -> int:
        """The newest release the watch has told of (each earlier one too). A store it has
        never seen (no record, or one naming a release the store does not hold: a store
        rebuilt) starts as the watch always began: the releases a full scan has seen are
        taken as told, and without one, those ingested this cycle (or the newest) are new.
        That start is kept at once, so a scan run by hand before the next cycle hides
        nothing."""
        kept = [t for t in (load_notified(self._notified_file), self._notified) if t is not None]
        told = max(kept, default=None)
        newest = _newest_release(st)
        if told is not None and told > (newest or 0):
            log.warning(
                "%s names release %d, which the store does not hold; the store is taken as "
                "one not watched before",
                self._notified_file,
                told,
            )
            told = None
        if told is not None:
            return told
        seen = _watermark(st)
        if seen is not None:
            told = seen
        elif newest is None:
            told = 0  # an empty store: every release to come is new
        else:
            landed = [int(r["release_id"]) for r in report.ingested]
            told = min(landed or [newest]) - 1
        self._tell(told)
        return told

    def _tell(self, release: int) -> None:
        """Keep ``release`` as the newest told of (in memory too, where the file cannot)."""
        self._notified = None if save_notified(self._notified_file, release) else release

    def _write_digest(self, st: Store, release: int, scan_id: int, report: CycleReport) -> None:
        from tradesentry import api

        def write() -> Path:
            text = api.digest(st, release, scan_id=scan_id).render(self.digest_format)
            target = self.out / f"release-{release}.{self.digest_format}"
            replace_text(target, text)
            return target

        self._tried.add(release)
        path = self._step(report, f"digest of release {release}", write)
        with locked(self._owed_file):
            owed = [d for d in load_owed(self._owed_file) if d[0] != release]
            if path is not None:
                log.info("digest of release %d written to %s", release, path)
                report.digests.append(path)
            else:
                owed.append((release, scan_id))  # the next cycle tries again
            save_owed(self._owed_file, owed)

    def _write_owed_digests(self, st: Store, report: CycleReport) -> None:
        """The digests an earlier cycle could not write (the step failed after its
        retries), from the scans they were to be written from; not one this cycle has just
        tried. One whose release or scan the store no longer holds (a store rebuilt beside
        the old state) can never be written: it is dropped, with a word."""
        for release, scan_id in load_owed(self._owed_file):
            if release in self._tried:
                continue
            if not _holds(st, release, scan_id):
                log.warning(
                    "digest of release %d from scan %d dropped: the store no longer holds them",
                    release,
                    scan_id,
                )
                with locked(self._owed_file):
                    kept = [d for d in load_owed(self._owed_file) if d[0] != release]
                    save_owed(self._owed_file, kept)
                continue
            self._write_digest(st, release, scan_id, report)

    def _notify(self, report: CycleReport) -> None:
        """Post queued messages in order; one that still fails stays queued for next cycle.

        While the webhook is known to be down, each cycle tries once instead of retrying.
        """
        from tradesentry.monitor import webhook

        if not self.webhook:
            return
        post = self.post or webhook.post
        with self._queue() as queue:  # held while posting: another watch waits, then sees
            while queue:
                body = queue[0]
                status = self._step(
                    report,
                    "post to the webhook",
                    lambda b=body: post(self.webhook, b),
                    attempts=1 if self._webhook_down else None,
                )
                self._webhook_down = status is None
                if status is None:
                    log.info("%d webhook message(s) kept for the next cycle", len(queue))
                    return
                queue.pop(0)
                self._save_queue()  # posted: gone from the file at once, whatever comes next
                report.posted += 1
                log.info(
                    "webhook: posted %d new finding(s) (HTTP %s)", len(body["findings"]), status
                )


def _fetch_comtrade(store: Store, **entry):
    from tradesentry.fetch import fetch_comtrade

    return fetch_comtrade(store, **entry)


def _watermark(st: Store) -> int | None:
    """The newest release a full scan has seen (None: no full scan yet)."""
    from tradesentry.monitor import history

    frame = history.scans(st).dropna(subset=["release"])
    frame = frame[frame["parameters"].map(history.is_full)]
    return None if frame.empty else int(frame["release"].max())


def _first_full_scan(st: Store, release: int) -> int | None:
    """The first full scan that saw ``release`` (None: none did; watermarks grow with the
    scans' ids): where a full scan ran while it was the newest, the one `digest` reads."""
    from tradesentry.monitor import history

    frame = history.scans(st).dropna(subset=["release"])
    frame = frame[frame["parameters"].map(history.is_full) & (frame["release"] >= release)]
    return None if frame.empty else int(frame["id"].iat[0])


def _findings_of(st: Store, scan_id: int) -> int:
    row = st.cursor().execute("SELECT findings FROM scans WHERE id = ?", [scan_id]).fetchone()
    return int(row[0] or 0) if row else 0


def _holds(st: Store, release: int, scan_id: int) -> bool:
    """Whether the store holds ``release`` and ``scan_id``."""
    con = st.cursor()
    has_release = con.execute("SELECT count(*) FROM releases WHERE id = ?", [release])
    if not has_release.fetchone()[0]:
        return False
    return bool(con.execute("SELECT count(*) FROM scans WHERE id = ?", [scan_id]).fetchone()[0])


def _releases_after(st: Store, seen: int) -> list[int]:
    """The releases newer than ``seen``, oldest first."""
    rows = st.cursor().execute("SELECT id FROM releases WHERE id > ? ORDER BY id", [seen])
    return [int(r[0]) for r in rows.fetchall()]


def _newest_release(st: Store) -> int | None:
    row = st.cursor().execute("SELECT max(id) FROM releases").fetchone()
    return None if row[0] is None else int(row[0])


def _release_brief(st: Store, release: int) -> dict:
    row = (
        st.cursor()
        .execute("SELECT id, file, source, published FROM releases WHERE id = ?", [release])
        .fetchone()
    )
    return {
        "id": int(row[0]),
        "file": row[1],
        "source": row[2],
        "published": row[3].isoformat() if row[3] else None,
    }


def watch(
    store: Store | str | os.PathLike,
    folder: str | os.PathLike | None = None,
    *,
    interval: float = 60.0,
    webhook: str | None = None,
    watchlist: str | os.PathLike | Watchlist | None = None,
    out: str | os.PathLike | None = None,
    digest_format: str = "md",
    max_iterations: int | None = None,
    **options: Any,
) -> list[CycleReport]:
    """Watch ``folder`` (and/or fetch a watchlist); see ``Watcher``. Checks arguments first."""
    from tradesentry.monitor.digest import FORMATS

    if folder is None and watchlist is None:
        raise InputError("watch needs a folder, a watchlist (--fetch), or both")
    if folder is not None and not Path(folder).is_dir():
        raise InputError(f"{folder}: not a folder")
    if interval <= 0:
        raise InputError(f"--interval {interval}: expected a positive number of seconds")
    if webhook is not None and not webhook.startswith(("http://", "https://")):
        raise InputError(f"--webhook {webhook!r}: expected an http:// or https:// URL")
    if digest_format not in FORMATS:
        raise InputError(f"digest format {digest_format!r}: choose from {', '.join(FORMATS)}")
    if isinstance(watchlist, str | os.PathLike):
        watchlist = load_watchlist(watchlist)
    watcher = Watcher(
        store,
        Path(folder) if folder is not None else None,
        interval=interval,
        webhook=webhook,
        watchlist=watchlist,
        out=Path(out) if out is not None else None,
        digest_format=digest_format,
        **options,
    )
    return watcher.run(max_iterations)
