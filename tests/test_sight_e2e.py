"""Sharing a real X screen (Xvfb): known pictures painted on the root window come out of the
screen source as frames, decoded and compared; a still screen is not resent."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys

import pytest
from PIL import Image, ImageColor

from livecli.sight import CaptureUnavailable, FramePolicy, open_screen
from tests.support.xvfb import screen_fixture

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def screen():
    yield from screen_fixture(1280, 720)


@pytest.fixture
def on_screen(screen, monkeypatch):
    monkeypatch.setenv("DISPLAY", screen.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    screen.show_colour("black")
    return screen


class Checks(FramePolicy):
    """The default policy, but quicker (a check every 0.2 s); `after_check(checks, sent)` runs in
    the event loop after each of its decisions."""

    def __init__(self, after_check=lambda checks, sent: None):
        super().__init__(interval=0.2)
        self.after_check = after_check
        self.checks = 0

    def offer(self, thumbnail, now):
        sent = super().offer(thumbnail, now)
        self.checks += 1
        self.after_check(self.checks, sent)
        return sent


def colour_at(frame, x, y):
    return Image.open(io.BytesIO(frame.jpeg)).convert("RGB").getpixel((x, y))


def is_colour(rgb, name, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, ImageColor.getrgb(name)))


async def share(source, paint):
    """Iterate the screen source; after each frame `paint(frames)` may change the screen (on a
    worker thread: xsetroot blocks). Sharing goes on until the source is closed."""
    frames = []
    async for frame in source.frames():
        frames.append(frame)
        await asyncio.to_thread(paint, frames)
    return frames


def test_the_screen_arrives_scaled_with_its_colours_in_place(on_screen):
    picture = Image.new("1", on_screen.size, 0)
    picture.paste(1, (0, 0, 640, 360))  # the top-left quarter
    on_screen.show(picture, foreground="red", background="blue")
    source = open_screen()

    frames = asyncio.run(share(source, lambda frames: source.close()))

    frame = frames[0]
    assert source.description == "screen 1 (1280x720)" and frame.source == source.description
    assert (frame.width, frame.height) == (1024, 576)
    assert is_colour(colour_at(frame, 100, 100), "red")
    for x, y in ((900, 100), (100, 500), (900, 500)):
        assert is_colour(colour_at(frame, x, y), "blue")


def test_a_change_is_sent_a_still_screen_is_not_and_look_now_sends_it_again(on_screen):
    on_screen.show_colour("red")
    story = {"sent": 0, "unsent_in_a_row": 0}

    def after_check(checks, sent):
        story["sent"] += sent
        story["unsent_in_a_row"] = 0 if sent else story["unsent_in_a_row"] + 1
        if story["unsent_in_a_row"] == 5 and story["sent"] == 2:  # five looks at the still screen: nothing sent
            source.look_now()
        elif checks > 100:
            source.close()  # a bound, should the screen never change

    def paint(frames):
        if len(frames) == 1:
            on_screen.show_colour("lime")
        elif len(frames) == 3:
            source.close()

    source = open_screen(policy=Checks(after_check))
    frames = asyncio.run(share(source, paint))

    shown = [next((c for c in ("red", "lime") if is_colour(colour_at(f, 500, 300), c)), "?") for f in frames]
    assert shown == ["red", "lime", "lime"]


def test_without_a_display_sharing_fails_in_one_line(isolated_env):
    probe = (
        "import asyncio\n"
        "from livecli.sight import open_screen, SightError\n"
        "async def main():\n"
        "    async for frame in open_screen().frames():\n"
        "        pass\n"
        "try:\n    asyncio.run(main())\n"
        "except SightError as e:\n    print('ERROR', e)\n"
    )
    unset = {k: v for k, v in isolated_env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    cases = {
        "ERROR cannot share the screen: no display (DISPLAY is unset)": unset,
        "ERROR cannot share the screen: this Wayland session has no X11 display": {
            **unset,
            "WAYLAND_DISPLAY": "wayland-0",
        },
        "ERROR cannot share the screen: Cannot connect to display": {**unset, "DISPLAY": ":4242"},
    }
    for expected, env in cases.items():
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        assert done.stdout.startswith(expected) and done.stdout.count("\n") == 1 and done.stderr == ""


def test_a_monitor_that_does_not_exist_is_named(on_screen):
    async def first_frame():
        async for frame in open_screen(2).frames():
            return frame

    with pytest.raises(CaptureUnavailable, match=r"^there is no screen 2 \(this display has 1: 1280x720\)$"):
        asyncio.run(first_frame())
