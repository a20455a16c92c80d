"""`livecli sessions …` and `livecli replay`: the commands over the session store.

Heavy imports (numpy, sounddevice, Rich's live display) wait for the commands.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Optional

import typer

from livecli import paths
from livecli.errors import LivecliError
from livecli.formats import columns, shorten
from livecli.settings import load_price_overrides, load_settings

sessions_app = typer.Typer(help="List, show, search, export and delete stored talk sessions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sessions_app, name="sessions")
    app.command()(replay)


_ID_HELP = "A session id or a unique prefix of it"


class ExportFormat(str, enum.Enum):
    md = "md"
    json = "json"
    wav = "wav"
    pictures = "pictures"


def _store():
    from livecli.store import SessionStore

    return SessionStore(paths.data_dir())


def _one_line(text: str, width: int) -> str:
    return shorten(" ".join(text.split()), width)


def _cost(info, overrides):
    """The session's estimated cost, with config.toml's prices."""
    from livecli.pricing import estimate

    return estimate(info.model, info.tokens, overrides)


@sessions_app.command("list")
def list_sessions(
    as_json: bool = typer.Option(False, "--json", help="One JSON array, for scripts."),
    limit: Optional[int] = typer.Option(None, min=1, metavar="N", help="Only the newest N."),
) -> None:
    """Sessions, newest first, with their tokens and estimated cost.

    Each with its id, start, length, turns and first words.
    """
    from livecli.store.export import length, started

    infos = _store().list_sessions(limit)
    overrides = load_price_overrides()
    if as_json:
        listed = [info.as_json() | {"cost": _cost(info, overrides).as_json()} for info in infos]
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    if not infos:
        typer.echo("no sessions recorded yet")
        return
    rows = [["ID", "STARTED", "LENGTH", "TURNS", "TOKENS", "COST", "FIRST WORDS"]]
    for info in infos:
        words = info.first_words if info.status == "ended" else f"[{info.status}] {info.first_words}"
        used = (f"{info.tokens.total:,}", str(_cost(info, overrides))) if info.tokens.total else ("–", "–")
        rows.append([info.id, started(info), length(info.duration_s), str(info.turns), *used, _one_line(words, 60)])
    for line in columns(rows, right=range(2, 6)):
        typer.echo(line)


@sessions_app.command("show")
def show(session: str = typer.Argument(..., metavar="ID", help=_ID_HELP)) -> None:
    """The transcript with tool calls, reconnections and timings.

    Above it, the session's tokens and estimated cost.
    """
    from livecli.store.export import show_text

    store = _store()
    session_id = store.resolve(session)
    info = store.info(session_id)
    typer.echo(show_text(info, store.events(session_id), _cost(info, load_price_overrides())))


@sessions_app.command("search")
def search(
    query: str = typer.Argument(..., metavar="QUERY", help='Words to find; "quoted words" as a phrase.'),
    limit: int = typer.Option(10, min=1, max=50, metavar="N", help="At most this many turns."),
    as_json: bool = typer.Option(False, "--json", help="JSON, for scripts."),
) -> None:
    """Full-text search over every transcript."""
    found = _store().search_transcripts(query, limit)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("nothing found")
    for hit in found:
        speaker = "You" if hit["speaker"] == "user" else "Gemini"
        typer.echo(f"{hit['session']}  {hit['date'][:16].replace('T', ' ')}  {speaker}: {_one_line(hit['text'], 100)}")


@sessions_app.command("delete")
def delete(sessions: list[str] = typer.Argument(..., metavar="ID...", help="Session ids or unique prefixes.")) -> None:
    """Delete sessions: transcript, events and audio."""
    store = _store()
    for session_id in [store.resolve(ref) for ref in sessions]:
        store.delete(session_id)
        typer.echo(f"deleted {session_id}")


@sessions_app.command("export")
def export(
    session: str = typer.Argument(..., metavar="ID", help=_ID_HELP),
    format: ExportFormat = typer.Option(
        ExportFormat.md,
        "--format",
        "-f",
        metavar="md|json|wav|pictures",
        help="md, json, wav (stereo: you left, Gemini right), or pictures (the JPEGs the model was shown).",
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE",
        help="File to write (default: stdout; for wav, livecli-ID.wav; for pictures, a folder livecli-ID-pictures).",
    ),
) -> None:
    """Write a session as Markdown, JSON or a WAV of both voices.

    The WAV has both voices on the session's timeline: you left, Gemini right.
    """
    from livecli.store import export as render

    store = _store()
    session_id = store.resolve(session)
    if format is ExportFormat.pictures:
        folder = output or Path(f"livecli-{session_id}-pictures")
        count = _write_pictures(store, session_id, folder)
        typer.echo(f"wrote {count} pictures to {folder}", err=True)
        return
    if format is ExportFormat.wav:
        path = output or Path(f"livecli-{session_id}.wav")
        seconds = _write_wav(store, session_id, path)
        typer.echo(f"wrote {path} ({seconds:.1f} s, stereo: you left, Gemini right)", err=True)
        return
    info, events = store.info(session_id), store.events(session_id)
    write = render.markdown if format is ExportFormat.md else render.as_json
    text = write(info, events, _cost(info, load_price_overrides()))
    if output is None:
        typer.echo(text)
    else:
        _write_text(output, text + "\n")


def _write_pictures(store, session_id: str, folder: Path) -> int:
    """The kept pictures as files named by when they were sent (mm-ss.s.jpg), in order."""
    kept = store.pictures(session_id)
    if not kept:
        raise LivecliError(f"session {session_id} kept no pictures (nothing was shared, or record_pictures was off)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for index, (offset, _mime, data) in enumerate(kept):
            minutes, seconds = divmod(offset, 60)
            (folder / f"{index + 1:03d}-{int(minutes):02d}m{seconds:04.1f}s.jpg").write_bytes(data)
    except OSError as exc:
        raise LivecliError(f"cannot write {folder}: {exc.strerror or exc}") from None
    return len(kept)


@sessions_app.command("prune")
def prune(
    keep_days: Optional[int] = typer.Option(
        None,
        min=0,
        metavar="N",
        help="Delete sessions older than this many days (0 = keep; default: config keep_days).",
    ),
    max_sessions: Optional[int] = typer.Option(
        None, min=0, metavar="N", help="Keep only the newest N (0 = all; default: config max_sessions)."
    ),
) -> None:
    """Delete old sessions now, as `talk` does (keep_days, max_sessions)."""
    settings = load_settings({})
    deleted = _store().prune(
        settings.keep_days if keep_days is None else keep_days,
        settings.max_sessions if max_sessions is None else max_sessions,
    )
    typer.echo(
        f"deleted {len(deleted)} session{'s' * (len(deleted) != 1)}" + (f": {', '.join(deleted)}" if deleted else "")
    )


def replay(
    session: Optional[str] = typer.Argument(
        None, metavar="ID", help=f"{_ID_HELP} (default: the latest)", show_default=False
    ),
    speed: float = typer.Option(
        1.0, min=0.0, max=4.0, metavar="FACTOR", help="Playback speed; 0 prints the transcript at once."
    ),
    start: float = typer.Option(
        0.0, "--from", min=0.0, metavar="SECONDS", help="Start this many seconds into the session."
    ),
    no_audio: bool = typer.Option(False, "--no-audio", help="The transcript only, at the session's pace."),
    export_to: Optional[Path] = typer.Option(
        None,
        "--export",
        metavar="FILE.wav",
        help="Write the mix to this WAV (stereo: you left, Gemini right) instead of playing.",
    ),
    output_device: Optional[str] = typer.Option(None, metavar="DEVICE", help="Speaker: index or part of its name."),
    plain: bool = typer.Option(False, "--plain", help="One line per turn, no live layout."),
) -> None:
    """Play a stored session, the transcript in step with both voices.

    Both voices play on the session's timeline. Keys: space pauses, ←/→ skip 5 s, q quits.
    """
    store = _store()
    session_id = store.resolve(session)
    if export_to is not None:
        seconds = _write_wav(store, session_id, export_to)
        typer.echo(f"wrote {export_to} ({seconds:.1f} s, stereo: you left, Gemini right)", err=True)
        return
    from livecli.replay import run_replay

    settings = load_settings(dict(output_device=output_device, plain=plain or None))
    code = run_replay(
        store, session_id, settings=settings, speed=speed, start_s=start, audio=not no_audio, plain=settings.plain
    )
    raise typer.Exit(int(code))


def _write_wav(store, session_id: str, path: Path) -> float:
    from livecli.store.timeline import Timeline

    timeline = Timeline(store, session_id, store.events(session_id), store.info(session_id).duration_s)
    try:
        path.open("wb").close()  # a path wave.open cannot open makes it print its own noise on the way out
        timeline.write_wav(path)
    except OSError as exc:
        raise LivecliError(f"cannot write {path}: {exc.strerror or exc}") from None
    return timeline.duration_s


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LivecliError(f"cannot write {path}: {exc.strerror or exc}") from None
