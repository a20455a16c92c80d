"""`livecli talk --screen` and `/image` end to end: a real X screen (Xvfb) painted with known
colours, real audio devices (PulseAudio null sinks), and the fake Live server, which keeps every
picture it is sent; the pictures are decoded and compared, and the session record keeps them."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image, ImageColor

from livecli.store import SessionStore
from tests.support.fake_live import FakeLiveServer
from tests.support.livecli_process import start_livecli
from tests.support.pulse_rig import pulse_rig_fixture
from tests.support.xvfb import screen_fixture

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pulse_rig():
    yield from pulse_rig_fixture()


@pytest.fixture(scope="module")
def screen():
    yield from screen_fixture(1280, 720)


def colour_of(jpeg: bytes) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(jpeg)).convert("RGB").getpixel((10, 10))


def near(rgb, name, tolerance=12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, ImageColor.getrgb(name)))


def pictures(server):
    return [frame.data for frame in server.media_in]


def talk(env, *args):
    return start_livecli(env, "talk", "--plain", "--echo", "off", *args)


def test_a_shared_screen_reaches_the_model_only_when_it_changes(pulse_rig, screen, isolated_env, run_cli, tmp_path):
    screen.show_colour("red")
    with FakeLiveServer() as server:
        env = pulse_rig.subprocess_env(dict(server.subprocess_env(isolated_env), DISPLAY=screen.display))
        process = talk(env, "--screen")
        try:
            assert server.wait_for(lambda: len(server.media_in) >= 1, timeout=30), process.stderr.read()
            time.sleep(2.5)  # a still screen: nothing more is sent
            still = len(server.media_in)
            screen.show_colour("blue")
            assert server.wait_for(lambda: len(server.media_in) > still, timeout=10)
            out, err = process.communicate(timeout=30)  # the end of input ends the session
        finally:
            if process.poll() is None:
                process.kill()
    sent = pictures(server)
    assert still == 1, f"a still screen was sent {still} times"
    assert near(colour_of(sent[0]), "red") and near(colour_of(sent[-1]), "blue")
    assert {frame.mime_type for frame in server.media_in} == {"image/jpeg"}
    width, height = Image.open(io.BytesIO(sent[0])).size
    assert max(width, height) <= 1024 and (width, height) == (1024, 576)
    chosen = server.setups[0]["realtimeInputConfig"]
    coverage = chosen.get("turnCoverage", chosen.get("turn_coverage"))  # the SDK sends inner keys in snake_case
    assert coverage == "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO"  # chosen, not left to the model
    assert process.returncode == 0, err
    store = SessionStore(Path(isolated_env["XDG_DATA_HOME"]) / "livecli")
    [info] = store.list_sessions()
    kept = store.pictures(info.id)
    assert [data for _, _, data in kept] == sent  # the record keeps what the model was shown
    exported = run_cli("sessions", "export", info.id, "--format", "pictures", "-o", str(tmp_path / "shown"))
    assert exported.returncode == 0, exported.stderr
    assert [path.read_bytes() for path in sorted((tmp_path / "shown").iterdir())] == sent


def test_image_command_sends_one_picture_file(pulse_rig, isolated_env, tmp_path):
    picture = tmp_path / "diagram.png"
    Image.new("RGB", (2000, 1000), "green").save(picture)
    with FakeLiveServer() as server:
        env = pulse_rig.subprocess_env(server.subprocess_env(isolated_env))
        process = talk(env)
        try:
            assert server.wait_for(lambda: server.setups, timeout=30)
            process.stdin.write(f"/image {picture}\n/image {tmp_path / 'missing.png'}\n")
            process.stdin.flush()
            assert server.wait_for(lambda: server.media_in, timeout=15)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    [sent] = pictures(server)
    assert near(colour_of(sent), "green") and Image.open(io.BytesIO(sent)).size == (1024, 512)
    assert "missing.png" in err and "Traceback" not in err
    assert server.text_in == []  # a command, not words for the model
