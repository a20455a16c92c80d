"""The views and keys, rendered and pressed as a user would."""

import io
import re

from rich.console import Console

from livecli.events import AssistantState, ConnectionState
from livecli.pricing import Cost, UsageTotals
from livecli.state import TalkState
from livecli.transcript import Speaker, Transcript
from livecli.ui.keyboard import Hush, Quit, SendText, ToggleMute, handle_key
from livecli.ui.keys import split_keys
from livecli.ui.plain import PlainView
from livecli.ui.rich_view import RichView, render


def make_state():
    return TalkState(model="gemini-3.8-live", voice="Kore", transcript=Transcript())


def screen(state, width=60, height=12):
    console = Console(file=io.StringIO(), width=width, height=height, color_system=None, legacy_windows=False)
    console.print(render(state, console))
    return console.file.getvalue().splitlines()


def test_layout_shows_header_transcript_meter_state_and_hints():
    state = make_state()
    state.connection = ConnectionState.CONNECTED
    state.assistant = AssistantState.SPEAKING
    state.mic_level_dbfs = -30.0
    state.usage = UsageTotals(total=1234)
    state.cost, state.budget_usd = Cost(0.41), 0.50
    state.transcript.add(Speaker.USER, "What's the weather?")
    state.transcript.finish_user_turn()
    state.transcript.add(Speaker.MODEL, "Sunny all day.")
    assert len(screen(state, width=40)) <= 12  # a narrow terminal clips, never wraps, the header
    lines = screen(state, width=80)
    assert len(lines) <= 12
    assert lines[0].startswith("livecli gemini-3.8-live  voice Kore  connected  00:00")
    assert "You: What's the weather?" in lines
    assert "Gemini: Sunny all day. …" in lines  # still speaking
    status = next(line for line in lines if line.startswith("mic "))
    assert "████████" in status and "speaking" in status  # -30 dBFS fills half the meter
    assert "1,234 tokens · $0.41 of $0.50" in status
    assert lines[-1] == "t type · m mute · Space hush · q quit"


def test_transcript_keeps_newest_lines_when_it_overflows():
    state = make_state()
    for n in range(30):
        state.transcript.add_user_text(f"line {n}")
    lines = screen(state, height=10)
    assert len(lines) <= 10
    assert "You: line 29" in lines and "You: line 0" not in lines


def test_the_live_view_draws_only_frames_that_changed():
    state = make_state()
    state.started_at += 0.5  # not about to tick over to the next second
    console = Console(file=io.StringIO(), width=60, height=12, force_terminal=True, color_system=None)
    view = RichView(console)
    view.start(state)
    drawn = lambda: len(console.file.getvalue())  # noqa: E731
    view.refresh(state)
    before = drawn()
    for _ in range(5):
        view.refresh(state)
    assert drawn() == before  # nothing changed: nothing written to the terminal
    state.transcript.add_user_text("hello")
    view.refresh(state)
    assert drawn() > before and "You: hello" in console.file.getvalue()
    view.stop(state)


def test_muted_and_typing_are_shown():
    state = make_state()
    state.muted = True
    state.typing, state.typed = True, "hello"
    lines = screen(state)
    assert any("mic muted" in line for line in lines)
    assert lines[-1].startswith("> hello")


def test_keys_type_send_cancel_mute_and_quit():
    state = make_state()
    assert handle_key(state, "m") == ToggleMute()
    assert handle_key(state, " ") == Hush()
    assert handle_key(state, "t") is None and state.typing
    for key in "hi q":  # q and m are just letters while typing
        assert handle_key(state, key) is None
    assert handle_key(state, "\x7f") is None  # backspace
    assert handle_key(state, "\r") == SendText("hi")
    assert not state.typing and state.typed == ""
    handle_key(state, "/")
    handle_key(state, "x")
    handle_key(state, "\x1b")  # Esc cancels
    assert not state.typing and state.typed == ""
    assert handle_key(state, "\r") is None and state.typing  # Enter opens the line too
    handle_key(state, "\r")  # an empty line sends nothing
    assert handle_key(state, "q") == Quit()


def test_arrow_keys_type_nothing_and_do_nothing_in_talk():
    state = make_state()
    keys = split_keys("t" + "a\x1b[Ab\x1bOBc" + "\r")
    assert [handle_key(state, key) for key in keys][-1] == SendText("abc")
    assert [handle_key(state, key) for key in split_keys("\x1b[C\x1b[D")] == [None, None] and not state.typing


def test_plain_view_prints_finished_turns_without_escape_codes():
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out=out, err=err)
    transcript = Transcript(on_turn_done=view.turn_done)
    transcript.add(Speaker.USER, "Count")
    transcript.add(Speaker.MODEL, "One, two")
    transcript.model_interrupted()
    view.notice("the service will close this connection in 5 s")
    assert out.getvalue() == "You: Count\nGemini: One, two [interrupted]\n"
    assert "\x1b" not in out.getvalue() + err.getvalue()
    assert err.getvalue() == "livecli: the service will close this connection in 5 s\n"


def test_no_color_is_honoured(monkeypatch):
    state = make_state()
    state.connection = ConnectionState.CONNECTED
    state.mic_level_dbfs = -20.0

    def rendered():
        console = Console(file=io.StringIO(), width=80, height=10, force_terminal=True)
        console.print(render(state, console))
        return console.file.getvalue()

    colour = re.compile(r"\x1b\[[0-9;]*(3[0-9]|9[0-7])m")
    assert colour.search(rendered())  # colours by default...
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour.search(rendered())  # ...none with NO_COLOR
