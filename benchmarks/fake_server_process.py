"""The fake Live server (tests/support/fake_live.py) in a process of its own.

For benchmarks that time the client's CPU with `time.process_time()`: the fake
validates every message it sends with pydantic and runs a VAD over every chunk
it receives, which must not count against the client.

    server = FakeServerProcess(reply_seconds=60, send_speed=50).start()
    env = server.subprocess_env()          # or server.client_env()
    ...
    server.events("setup")                 # [Event(t, kind, data)], t = time.monotonic()
    server.audio_in_times()                # arrival time of every audio chunk
    server.stop()

The child is `python benchmarks/fake_server_process.py '<FakeLiveServer kwargs as JSON>'`:
it prints one JSON line (base URL, CA file, API key, pid), then answers one JSON
line per command read from stdin (`events [KIND]`, `audio_in`, `cpu`, `stop`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Event:
    t: float
    kind: str
    data: Any


class FakeServerProcess:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.process: subprocess.Popen | None = None
        self.info: dict = {}
        self._lock = threading.Lock()

    def start(self) -> FakeServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), json.dumps(self.kwargs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the fake server process did not start")
        self.info = json.loads(line)
        return self

    @property
    def pid(self) -> int:
        return self.info["pid"]

    def client_env(self) -> dict[str, str]:
        return {
            "GOOGLE_GEMINI_BASE_URL": self.info["base_url"],
            "SSL_CERT_FILE": self.info["ca_path"],
            "GEMINI_API_KEY": self.info["api_key"],
        }

    def subprocess_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.pop("GOOGLE_API_KEY", None)
        env.update(self.client_env())
        return env

    def _ask(self, command: str) -> Any:
        assert self.process is not None
        with self._lock:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
            return json.loads(self.process.stdout.readline())

    def events(self, kind: str | None = None) -> list[Event]:
        return [Event(*e) for e in self._ask(f"events {kind or ''}".strip())]

    def audio_in_times(self) -> list[float]:
        return self._ask("audio_in")

    def cpu_seconds(self) -> float:
        return self._ask("cpu")

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self._ask("stop")
        except (OSError, ValueError):
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> FakeServerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _serve(kwargs: dict) -> None:
    sys.path.insert(0, str(REPO))
    from tests.support.fake_live import FakeLiveServer

    server = FakeLiveServer(**kwargs).start()
    print(
        json.dumps(
            {"base_url": server.base_url, "ca_path": str(server.ca_path), "api_key": server.api_key, "pid": os.getpid()}
        ),
        flush=True,
    )
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "events":
            answer = [[e.t, e.kind, _jsonable(e.data)] for e in server.events(arg or None)]
        elif command == "audio_in":
            with server._cond:
                answer = [r.t for r in server.audio_in]
        elif command == "cpu":
            times = os.times()
            answer = times.user + times.system
        elif command == "stop":
            print("null", flush=True)
            break
        else:
            answer = None
        print(json.dumps(answer), flush=True)
    server.stop(raise_errors=False)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
