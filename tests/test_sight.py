"""Sharing pictures with the model: which frames are sent, how they are encoded, and what the user
is told when there is no picture to be had. No screen needed: a scripted grabber stands in for it
(the real screen is in test_sight_e2e.py)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import threading

import pytest
from PIL import Image, ImageColor, ImageDraw, ImageFont

from livecli.sight import (
    CaptureUnavailable,
    FramePolicy,
    FrameSource,
    PictureUnreadable,
    SightError,
    load_picture,
    open_camera,
)
from livecli.sight.camera import MISSING_EXTRA
from livecli.sight.encode import MAX_SIDE, THUMBNAIL_SIZE, thumbnail, to_frame
from livecli.sight.policy import mean_abs_difference
from tests.support.xvfb import code_page

STILL = bytes([100]) * (THUMBNAIL_SIZE[0] * THUMBNAIL_SIZE[1])


def shifted(thumb: bytes, by: int) -> bytes:
    return bytes(min(255, v + by) for v in thumb)


def decoded(frame) -> Image.Image:
    picture = Image.open(io.BytesIO(frame.jpeg))
    assert picture.format == "JPEG" and frame.mime_type == "image/jpeg"
    assert picture.size == (frame.width, frame.height)
    return picture.convert("RGB")


def near(colour, expected, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


# -- the decision part ------------------------------------------------------------------------


def test_the_first_picture_is_sent_and_a_still_screen_is_not_resent():
    policy = FramePolicy(interval=1.0)
    assert policy.offer(STILL, now=0.0)
    assert [policy.offer(STILL, now=t) for t in (1.0, 2.0, 3.0, 60.0)] == [False] * 4


def test_a_change_above_the_threshold_is_sent_and_a_small_one_is_not():
    policy = FramePolicy(interval=1.0, threshold=1.0)
    policy.offer(STILL, now=0.0)
    assert not policy.offer(shifted(STILL, 1), now=1.0)
    assert policy.offer(shifted(STILL, 2), now=2.0)


def test_small_changes_add_up_against_the_last_picture_sent():
    """A line typed each second changes little each time, but the model sees the text once it counts."""
    policy = FramePolicy(interval=1.0, threshold=1.0)
    policy.offer(STILL, now=0.0)
    sent = [policy.offer(shifted(STILL, step), now=float(step)) for step in (1, 1, 2)]
    assert sent == [False, False, True]


def test_at_most_one_frame_per_interval_even_when_everything_changes():
    policy = FramePolicy(interval=1.0)
    policy.offer(STILL, now=0.0)
    assert not policy.offer(shifted(STILL, 50), now=0.5)
    assert policy.offer(shifted(STILL, 100), now=1.0)


def test_the_screen_is_looked_at_once_per_interval():
    policy = FramePolicy(interval=1.0)
    assert policy.next_check_in(now=5.0) == 0
    policy.offer(STILL, now=5.0)
    assert policy.next_check_in(now=5.25) == pytest.approx(0.75)
    assert policy.next_check_in(now=6.0) == 0


def test_look_now_sends_an_unchanged_picture_within_the_rate_cap():
    policy = FramePolicy(interval=1.0)
    policy.offer(STILL, now=0.0)
    policy.offer(STILL, now=1.0)
    policy.request_look()
    assert policy.next_check_in(now=1.2) == 0  # a second has passed since the last frame sent
    assert policy.offer(STILL, now=1.2)
    policy.request_look()
    assert policy.next_check_in(now=1.5) == pytest.approx(0.7)
    assert not policy.offer(STILL, now=1.5)
    assert policy.offer(STILL, now=2.2)
    assert not policy.offer(STILL, now=3.2)  # the look was used up


def test_thumbnail_differences_are_on_the_0_to_255_scale():
    assert mean_abs_difference(bytes([0, 0]), bytes([255, 255])) == 255
    assert mean_abs_difference(bytes([10, 20]), bytes([20, 10])) == 10


# -- the encoder ------------------------------------------------------------------------------


def test_a_large_picture_is_scaled_to_the_long_side_limit_keeping_its_shape():
    landscape = to_frame(Image.new("RGB", (1920, 1080), "red"), "screen 1 (1920x1080)", 12.5)
    portrait = to_frame(Image.new("RGB", (1080, 1920), "red"), "x", 0)
    assert (landscape.width, landscape.height) == (MAX_SIDE, 576)
    assert (portrait.width, portrait.height) == (576, MAX_SIDE)
    assert near(decoded(landscape).getpixel((500, 300)), (255, 0, 0))
    assert landscape.source == "screen 1 (1920x1080)" and landscape.captured_at == 12.5


def test_a_small_picture_keeps_its_size_and_colours():
    picture = Image.new("RGB", (200, 100), "blue")
    picture.paste((0, 255, 0), (0, 0, 100, 100))
    frame = to_frame(picture, "x", 0)
    assert (frame.width, frame.height) == (200, 100)
    assert near(decoded(frame).getpixel((20, 50)), (0, 255, 0))
    assert near(decoded(frame).getpixel((180, 50)), (0, 0, 255))


def test_transparent_parts_become_white():
    picture = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    picture.paste((255, 0, 0, 255), (0, 0, 32, 64))
    shown = decoded(to_frame(picture, "x", 0))
    assert near(shown.getpixel((8, 32)), (255, 0, 0)) and near(shown.getpixel((56, 32)), (255, 255, 255))


def test_a_thumbnail_is_the_grayscale_mean_of_each_patch():
    picture = Image.new("RGB", (1280, 720), "black")
    picture.paste((255, 255, 255), (640, 0, 1280, 720))
    small = thumbnail(picture)
    width = THUMBNAIL_SIZE[0]
    assert len(small) == width * THUMBNAIL_SIZE[1]
    assert small[0] == 0 and small[width - 1] == 255


def test_by_default_scrolled_text_is_sent_a_ticking_clock_is_not_and_typing_adds_up():
    """The default thumbnail and threshold on a 1920x1080 screen of code, light on dark."""
    size = (1920, 1080)

    def shown(page, clock="12:34:56"):
        ImageDraw.Draw(page).text((1780, 5), clock, fill=1, font=ImageFont.load_default(size=18))
        return thumbnail(page.convert("L").point(lambda v: 0xD0 if v else 0x20).convert("RGB"))

    policy = FramePolicy()
    assert policy.offer(shown(code_page(1, 40, size)), now=0.0)
    assert not policy.offer(shown(code_page(1, 40, size), clock="12:34:57"), now=1.0)
    typed = [policy.offer(shown(code_page(1, lines, size)), now=float(lines)) for lines in range(41, 46)]
    assert not typed[0] and any(typed)  # one typed line is too little; a few are a new picture
    assert policy.offer(shown(code_page(2, 45, size)), now=60.0)  # scrolled by one line


# -- the async source, with a scripted grabber ------------------------------------------------


class ScriptedGrabber:
    """Hands out the given colours in turn (the last one forever) and notes where it ran."""

    def __init__(self, colours, on_grab=None, fail_open=False):
        self.colours = list(colours)
        self.on_grab = on_grab
        self.fail_open = fail_open
        self.grabs = 0
        self.threads = set()
        self.closed = threading.Event()

    def open(self):
        self.threads.add(threading.current_thread())
        if self.fail_open:
            raise CaptureUnavailable("cannot share the screen: no display (DISPLAY is unset)")
        return "test screen"

    def grab(self):
        self.threads.add(threading.current_thread())
        colour = self.colours[min(self.grabs, len(self.colours) - 1)]
        self.grabs += 1
        if self.on_grab:
            self.on_grab(self.grabs)
        return Image.new("RGB", (64, 36), colour)

    def close(self):
        self.threads.add(threading.current_thread())
        self.closed.set()


def run_source(grabber, *, until_grabs, react=None):
    """Iterate a source over the grabber, checking as often as it can, until it has grabbed
    `until_grabs` times; `react(source, frames)` runs in the loop after each frame. Returns the
    frames' colours."""
    source = FrameSource(grabber, FramePolicy(interval=0.0))

    async def consume():
        loop = asyncio.get_running_loop()

        def close_when_done(count):
            if count >= until_grabs:
                loop.call_soon_threadsafe(source.close)

        grabber.on_grab = close_when_done
        frames = []
        async for frame in source.frames():
            frames.append(frame)
            if react:
                react(source, frames)
        return frames

    frames = asyncio.run(consume())
    assert grabber.closed.wait(5)
    return [decoded(frame).getpixel((10, 10)) for frame in frames]


def named(colours):
    """Decoded colours by name ("?" for none of these), to compare with what was shown."""
    palette = {name: ImageColor.getrgb(name) for name in ("red", "lime", "blue")}
    return [next((name for name, rgb in palette.items() if near(c, rgb)), "?") for c in colours]


def test_a_still_source_yields_one_frame_and_a_changing_one_each_change():
    still = run_source(ScriptedGrabber(["red"]), until_grabs=20)
    changing = run_source(ScriptedGrabber(["red", "red", "blue", "blue", "lime"]), until_grabs=20)
    assert named(still) == ["red"]
    assert named(changing) == ["red", "blue", "lime"]


def test_look_now_yields_a_fresh_frame_of_an_unchanged_picture():
    def look_once(source, frames):
        if len(frames) == 1:
            source.look_now()

    colours = run_source(ScriptedGrabber(["red"]), until_grabs=20, react=look_once)
    assert named(colours) == ["red", "red"]


def test_a_paused_source_captures_nothing_and_resumes_with_a_fresh_frame():
    async def scenario():
        grabber = ScriptedGrabber(["red"])
        source = FrameSource(grabber, FramePolicy(interval=0.0))
        received = asyncio.Queue()

        async def consume():
            async for frame in source.frames():
                received.put_nowait(frame)

        task = asyncio.create_task(consume())
        first = await asyncio.wait_for(received.get(), 30)  # a bound against a hang, not a timing
        source.pause()
        grabs_at_pause = grabber.grabs
        await asyncio.sleep(0.05)  # unpaused, an interval of 0 grabs hundreds of times meanwhile
        grabs_while_paused = grabber.grabs - grabs_at_pause
        source.resume()
        second = await asyncio.wait_for(received.get(), 30)
        source.close()
        await task
        return grabs_while_paused, named([decoded(f).getpixel((1, 1)) for f in (first, second)])

    grabs_while_paused, colours = asyncio.run(scenario())
    assert grabs_while_paused <= 1  # at most the grab already under way
    assert colours == ["red", "red"]  # unchanged, yet sent again after the pause


def test_a_picture_being_taken_when_sharing_stops_is_not_sent():
    """close() (like pause()) while a picture is being taken: that picture is dropped."""
    holder = {}

    def stop_during_second_grab(count):
        if count == 2:  # the blue picture; sharing stops before it is handed over
            asyncio.run_coroutine_threadsafe(stop(), holder["loop"]).result()

    async def stop():
        holder["source"].close()

    async def consume():
        holder["loop"] = asyncio.get_running_loop()
        holder["source"] = source = FrameSource(
            ScriptedGrabber(["red", "blue"], stop_during_second_grab), FramePolicy(interval=0.0)
        )
        return [decoded(frame).getpixel((1, 1)) async for frame in source.frames()]

    assert named(asyncio.run(consume())) == ["red"]


def test_capture_runs_on_one_worker_thread_off_the_event_loop():
    grabber = ScriptedGrabber(["red", "blue"])
    run_source(grabber, until_grabs=5)
    assert len(grabber.threads) == 1
    assert threading.main_thread() not in grabber.threads


def test_a_source_that_cannot_open_raises_one_line_and_releases_its_grabber():
    grabber = ScriptedGrabber(["red"], fail_open=True)

    async def consume():
        return [frame async for frame in FrameSource(grabber).frames()]

    with pytest.raises(CaptureUnavailable, match="^cannot share the screen: no display"):
        asyncio.run(consume())
    assert grabber.closed.wait(5)


def test_cancelling_the_consumer_releases_the_grabber():
    grabber = ScriptedGrabber(["red"])

    async def scenario():
        source = FrameSource(grabber, FramePolicy(interval=60.0))

        async def consume():
            async for _ in source.frames():
                pass

        task = asyncio.create_task(consume())
        while grabber.grabs == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert grabber.closed.wait(5)


# -- single pictures --------------------------------------------------------------------------


def test_a_picture_file_becomes_one_upright_scaled_frame(tmp_path):
    path = tmp_path / "holiday.jpg"
    photo = Image.new("RGB", (4000, 3000), "blue")
    photo.paste((255, 0, 0), (0, 0, 2000, 3000))  # red on the left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: shown turned 90° clockwise, so the red half is on top
    exif[0x010F] = "Phone maker"
    photo.save(path, exif=exif)

    frame = load_picture(path)

    assert (frame.width, frame.height) == (768, MAX_SIDE)
    assert frame.source == "picture holiday.jpg (3000x4000)"
    shown = decoded(frame)
    assert near(shown.getpixel((384, 100)), (255, 0, 0)) and near(shown.getpixel((384, 900)), (0, 0, 255))
    assert not Image.open(io.BytesIO(frame.jpeg)).getexif()  # the phone's metadata stays home


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "BMP"])
def test_common_picture_formats_are_read(tmp_path, fmt):
    path = tmp_path / f"shot.{fmt.lower()}"
    Image.new("RGB", (300, 200), (0, 255, 0)).save(path, fmt)
    frame = load_picture(path)
    assert (frame.width, frame.height) == (300, 200)
    assert near(decoded(frame).getpixel((150, 100)), (0, 255, 0), tolerance=20)


def test_pictures_that_cannot_be_read_are_one_line_each(tmp_path):
    (tmp_path / "notes.txt").write_text("not a picture")
    truncated = tmp_path / "cut.png"
    buffer = io.BytesIO()
    Image.effect_noise((400, 400), 60).save(buffer, "PNG")
    truncated.write_bytes(buffer.getvalue()[:2000])
    cases = {
        tmp_path / "missing.png": "no such picture: ",
        tmp_path: "is a folder, not a picture",
        tmp_path / "notes.txt": "is not a picture",
        truncated: "cannot read picture ",
    }
    for path, message in cases.items():
        with pytest.raises(PictureUnreadable) as caught:
            load_picture(path)
        assert message in str(caught.value) and "\n" not in str(caught.value)
        assert isinstance(caught.value, SightError)


# -- the camera -------------------------------------------------------------------------------


def test_a_missing_camera_extra_is_a_one_line_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # as if opencv-python-headless were not installed

    async def consume():
        return [frame async for frame in open_camera(0).frames()]

    with pytest.raises(CaptureUnavailable) as caught:
        asyncio.run(consume())
    assert str(caught.value) == MISSING_EXTRA and "pip install 'livecli[camera]'" in MISSING_EXTRA


def test_a_camera_that_cannot_be_opened_is_one_line(tmp_path, capfd):
    async def consume():
        return [frame async for frame in open_camera(tmp_path / "no-such-camera").frames()]

    with pytest.raises(CaptureUnavailable, match="^cannot open camera .*no-such-camera$"):
        asyncio.run(consume())
    assert capfd.readouterr().err == ""  # none of OpenCV's own warnings on the terminal


def test_a_camera_stream_yields_its_changes_then_says_when_it_stops(tmp_path):
    """OpenCV reads a video file through the same VideoCapture as a webcam: three seconds of
    red, green, blue stand in for a camera (there is none on a test machine)."""
    import cv2
    import numpy as np

    path = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (160, 120))
    for bgr in ((0, 0, 255), (0, 255, 0), (255, 0, 0)):  # OpenCV's order: blue, green, red
        for _ in range(5):
            writer.write(np.full((120, 160, 3), bgr, np.uint8))
    writer.release()

    source = open_camera(str(path), FramePolicy(interval=0.0))
    colours = []

    async def consume():
        async for frame in source.frames():
            colours.append(decoded(frame).getpixel((80, 60)))

    with pytest.raises(CaptureUnavailable, match="stopped giving pictures"):
        asyncio.run(consume())
    assert source.description == f"camera {path} (160x120)"
    assert named(colours) == ["red", "lime", "blue"]


# -- start-up stays light ---------------------------------------------------------------------


def test_help_and_a_plain_talk_do_not_load_picture_sharing():
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['livecli', '--help']\n"
        "try:\n    runpy.run_module('livecli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "import livecli.talk\n"
        "print('LOADED', sorted(m for m in ('livecli.sight', 'mss', 'PIL', 'cv2') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout
    assert "LOADED []" in out
