"""A virtual X screen for end-to-end tests and benchmarks: Xvfb, painted with xsetroot.

Debian packages: xvfb, x11-xserver-utils (xsetroot). Xvfb picks a free display number itself
(-displayfd), so runs side by side do not collide; -noreset keeps the root window's picture when
the last client (xsetroot) disconnects.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REQUIRED = {"Xvfb": "xvfb", "xsetroot": "x11-xserver-utils"}


class ScreenUnavailable(RuntimeError):
    pass


class VirtualScreen:
    """An X screen to paint on: the one virtual_screen() started, or (process None) one that
    another process started, for a painter of its own."""

    def __init__(self, display: str, size: tuple[int, int], process: subprocess.Popen | None = None):
        self.display = display
        self.size = size
        self._process = process

    def env(self) -> dict[str, str]:
        """The environment a program needs to see this screen (and no Wayland)."""
        env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        env["DISPLAY"] = self.display
        return env

    def show_colour(self, colour: str) -> None:
        self._xsetroot("-solid", colour)

    def show(self, bitmap: Image.Image, foreground: str = "black", background: str = "white") -> None:
        """Paint a two-colour picture (mode "1", screen-sized: xsetroot tiles it): set pixels in
        `foreground`, clear ones in `background`."""
        with tempfile.TemporaryDirectory(prefix="livecli-xvfb-") as workdir:
            path = Path(workdir) / "root.xbm"
            bitmap.convert("1").save(path, "XBM")  # Pillow writes set pixels as XBM's set (foreground) bits
            self._xsetroot("-bitmap", str(path), "-fg", foreground, "-bg", background)

    def _xsetroot(self, *args: str) -> None:
        subprocess.run(["xsetroot", *args], env=self.env(), check=True, timeout=30)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def missing_requirements() -> list[str]:
    return [package for program, package in REQUIRED.items() if shutil.which(program) is None]


@contextmanager
def virtual_screen(width: int = 1280, height: int = 720) -> Iterator[VirtualScreen]:
    missing = missing_requirements()
    if missing:
        raise ScreenUnavailable(f"Xvfb tests need the Debian packages: {' '.join(missing)}")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        number = announced.readline().strip()
    if not number:
        process.wait()
        raise ScreenUnavailable(f"Xvfb did not start (exit code {process.returncode})")
    screen = VirtualScreen(f":{number}", (width, height), process)
    try:
        yield screen
    finally:
        screen.stop()


def screen_fixture(width: int = 1280, height: int = 720) -> Iterator[VirtualScreen]:
    """A virtual screen for a pytest fixture; a machine without Xvfb fails the test with the reason."""
    import pytest

    try:
        with virtual_screen(width, height) as screen:
            yield screen
    except ScreenUnavailable as e:
        pytest.fail(str(e), pytrace=False)


WORDS = "self event queue put return if else for in range len data value result error handle def class import".split()


def code_line(number: int) -> str:
    """Line `number` of a made-up source file: indented and as long as code is (the same every run)."""
    indent = "    " * (number * 7 % 5)
    words = [WORDS[(number * 31 + i * 17) % len(WORDS)] for i in range(number * 13 % 14)]
    return f"{number:5d}  {indent}{' '.join(words)}"


def code_page(first: int, lines: int, size: tuple[int, int], rows: int = 45) -> Image.Image:
    """A screen of code as a two-colour picture (mode "1", text set): `lines` lines from `first`,
    on a screen that holds `rows` of them."""
    picture = Image.new("1", size, 0)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=size[1] // (rows + 5))
    line_height = size[1] // (rows + 2)
    for row in range(lines):
        draw.text((20, 20 + row * line_height), code_line(first + row), fill=1, font=font)
    return picture
