"""What google-genai's Live session itself costs per message, in CPU time.

The fake Live server runs in a process of its own (benchmarks/fake_server_process.py),
so only the client's work is counted (`time.process_time()`: this process, every
thread). For each websocket compression setting (`deflate`: the SDK's default, which
the fake, like any `websockets` server, accepts; `none`: what livecli asks for):

* send: `session.send_realtime_input(audio=types.Blob(3200 bytes))` (100 ms of 16 kHz
  audio, as livecli sends it; low noise, not zeros, so deflate is not flattered), N in a
  row, in rounds;
* receive: a text turn asking for a long reply (FakeLiveServer(reply_seconds=60,
  send_speed=50): ~860 model audio messages of 40-100 ms, 2.6-6.4 KB of base64 each),
  timed through `session.receive()` from the first message to turnComplete;
* the websocket/TLS layer alone: a raw `websockets` connection to the same server
  sending the same JSON text (`ws.send`) and receiving the same reply (`ws.recv`),
  its rounds interleaved with the SDK's. "ws+TLS" includes asyncio's wake-up per
  received message; "SDK own" = SDK total - ws+TLS.
* the same at a live pace: one send every 20 ms (CPU of the send calls only) and a 5 s
  reply streamed at 1x by a second server: every message then meets cold caches, as in
  a real session (on this shared 2-core machine that costs several times the burst
  figures).

Then the SDK's own steps in isolation (no network, warm), on the same payload and on
the recorded server messages: pydantic models and converters vs JSON and base64; "rest"
is SDK own minus those (async generator layers, and steps costing more in place than in
a tight loop). Target: <= 100 us per message; over it, cProfile (CPU time) says where
the time goes.

    .venv/bin/python benchmarks/sdk_cost.py [--sends 2000] [--rounds 5] [--no-profile]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import cProfile
import io
import json
import os
import pstats
import random
import ssl
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from fake_server_process import FakeServerProcess  # noqa: E402

MODEL = "gemini-live-2.5-flash-preview"
MIME = "audio/pcm;rate=16000"
# 100 ms of low noise (RMS ~170: under the fake's VAD threshold of 500, so no turn starts;
# not zeros, which would make permessage-deflate look free)
_noise = random.Random(0)
PCM = array.array("h", [_noise.randint(-300, 300) for _ in range(1600)]).tobytes()
ASK = "Tell me a long story."
TARGET_US = 100.0


# --------------------------------------------------------------------------- through the SDK


def sdk_client(compression: str | None):
    from google import genai
    from google.genai import types

    if compression == "deflate":
        return genai.Client()  # the SDK's defaults, as Google's quickstart uses it
    return genai.Client(http_options=types.HttpOptions(async_client_args={"compression": None}))


class Sdk:
    """A Live session through the SDK."""

    def __init__(self, compression: str | None):
        self.compression = compression

    async def __aenter__(self) -> Sdk:
        from google.genai import types

        self.types = types
        client = sdk_client(self.compression)
        config = types.LiveConnectConfig(response_modalities=[types.Modality.AUDIO])
        self._cm = client.aio.live.connect(model=MODEL, config=config)
        self.session = await self._cm.__aenter__()
        self.negotiated = self.session._ws.response.headers.get("Sec-WebSocket-Extensions") or "none"
        await self.send_round(100)  # warm-up: first-use model builds, caches
        return self

    async def __aexit__(self, *exc) -> None:
        await self._cm.__aexit__(*exc)

    async def send_round(self, sends: int, profile: cProfile.Profile | None = None) -> float:
        session, Blob = self.session, self.types.Blob
        if profile:
            profile.enable()
        start = time.process_time()
        for _ in range(sends):
            await session.send_realtime_input(audio=Blob(data=PCM, mime_type=MIME))
        spent = time.process_time() - start
        if profile:
            profile.disable()
        return spent / sends * 1e6

    async def send_paced(self, sends: int, interval: float) -> float:
        """One send every `interval` s, as a live microphone does: CPU of the send calls only."""
        session, Blob, spent = self.session, self.types.Blob, 0.0
        for _ in range(sends):
            await asyncio.sleep(interval)
            start = time.process_time()
            await session.send_realtime_input(audio=Blob(data=PCM, mime_type=MIME))
            spent += time.process_time() - start
        return spent / sends * 1e6

    async def receive_round(self, profile: cProfile.Profile | None = None) -> tuple[float, int]:
        """CPU per message from the first message of the reply to turnComplete (the wait
        before the first one is idle)."""
        await self.session.send_realtime_input(text=ASK)
        count, first = 0, None
        async for _message in self.session.receive():
            if first is None:
                first = time.process_time()
                if profile:
                    profile.enable()
                continue
            count += 1
        spent = time.process_time() - first
        if profile:
            profile.disable()
        return spent / count * 1e6, count


class Raw:
    """The same server through a bare `websockets` connection: the websocket/TLS layer."""

    def __init__(self, compression: str | None):
        self.compression = compression
        self.frame = json.dumps(
            {"realtime_input": {"audio": {"data": base64.urlsafe_b64encode(PCM).decode("ascii"), "mime_type": MIME}}}
        )
        self.messages: list[bytes] = []

    async def __aenter__(self) -> Raw:
        from websockets.asyncio.client import connect

        env = os.environ
        ctx = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
        host = env["GOOGLE_GEMINI_BASE_URL"].split("://", 1)[1].rstrip("/")
        uri = f"wss://{host}/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent"
        self._cm = connect(
            uri, ssl=ctx, additional_headers={"x-goog-api-key": env["GEMINI_API_KEY"]}, compression=self.compression
        )
        self.ws = await self._cm.__aenter__()
        setup = {"setup": {"model": f"models/{MODEL}", "generationConfig": {"responseModalities": ["AUDIO"]}}}
        await self.ws.send(json.dumps(setup))
        await self.ws.recv(decode=False)
        await self.send_round(100)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._cm.__aexit__(*exc)

    async def send_round(self, sends: int) -> float:
        ws, frame = self.ws, self.frame
        start = time.process_time()
        for _ in range(sends):
            await ws.send(frame)
        return (time.process_time() - start) / sends * 1e6

    async def send_paced(self, sends: int, interval: float) -> float:
        ws, frame, spent = self.ws, self.frame, 0.0
        for _ in range(sends):
            await asyncio.sleep(interval)
            start = time.process_time()
            await ws.send(frame)
            spent += time.process_time() - start
        return spent / sends * 1e6

    async def receive_round(self) -> float:
        ws = self.ws
        await ws.send(json.dumps({"realtime_input": {"text": ASK}}))
        raw = await ws.recv(decode=False)
        first, turn = time.process_time(), []
        while b'"turnComplete"' not in raw:
            raw = await ws.recv(decode=False)
            turn.append(raw)
        spent = time.process_time() - first
        self.messages = turn
        return spent / len(turn) * 1e6


async def measure(compression: str | None, sends: int, rounds: int) -> dict:
    """SDK and raw rounds interleaved, so both see the same machine load."""
    sdk_send, raw_send, sdk_receive, raw_receive, counts = [], [], [], [], []
    async with Sdk(compression) as sdk, Raw(compression) as raw:
        for _ in range(rounds):
            sdk_send.append(await sdk.send_round(sends))
            raw_send.append(await raw.send_round(sends))
        for _ in range(rounds):
            us, count = await sdk.receive_round()
            sdk_receive.append(us)
            counts.append(count)
            raw_receive.append(await raw.receive_round())
    return {
        "negotiated": sdk.negotiated,
        "sdk": {"send_us": statistics.median(sdk_send), "receive_us": statistics.median(sdk_receive)},
        "raw": {"send_us": statistics.median(raw_send), "receive_us": statistics.median(raw_receive)},
        "rounds": {
            "sdk_send": [round(v, 1) for v in sdk_send],
            "raw_send": [round(v, 1) for v in raw_send],
            "sdk_receive": [round(v, 1) for v in sdk_receive],
            "raw_receive": [round(v, 1) for v in raw_receive],
        },
        "messages_per_turn": statistics.median(counts),
        "messages": raw.messages,
        "frame_bytes": len(raw.frame),
    }


async def measure_paced(compression: str | None, sends: int, interval: float) -> dict:
    """At a live pace: sends every `interval` s, and a reply streamed at real time (the
    server of this phase sends at 1x): caches are cold for every message, as in a session."""
    async with Sdk(compression) as sdk, Raw(compression) as raw:
        sdk_send = await sdk.send_paced(sends, interval)
        raw_send = await raw.send_paced(sends, interval)
        sdk_receive, count = await sdk.receive_round()
        raw_receive = await raw.receive_round()
    return {
        "sdk": {"send_us": sdk_send, "receive_us": sdk_receive},
        "raw": {"send_us": raw_send, "receive_us": raw_receive},
        "messages_per_turn": count,
    }


async def profile_sdk(sends: int) -> dict[str, cProfile.Profile]:
    # CPU time, not wall time: waiting in epoll is not a cost
    profiles = {kind: cProfile.Profile(time.process_time) for kind in ("send", "receive")}
    async with Sdk(None) as sdk:
        await sdk.send_round(sends, profiles["send"])
        await sdk.receive_round(profiles["receive"])
    return profiles


# --------------------------------------------------------------------------- the SDK's steps, no network


def per_call_us(fn, items, repeat: int = 3) -> float:
    """Median over `repeat` passes of CPU time per call of fn(item)."""
    results = []
    for _ in range(repeat):
        start = time.process_time()
        for item in items:
            fn(item)
        results.append((time.process_time() - start) / len(items) * 1e6)
    return statistics.median(results)


def send_steps(n: int) -> dict[str, float]:
    from google.genai import _common, types
    from google.genai import _live_converters as conv

    blob = types.Blob(data=PCM, mime_type=MIME)
    params = types.LiveSendRealtimeInputParameters.model_validate({"audio": blob})
    mldev = conv._LiveSendRealtimeInputParameters_to_mldev(from_object=params)
    as_dict = _common.convert_to_dict(mldev)
    encoded = _common.encode_unserializable_types(as_dict)
    items = range(n)
    return {
        "types.Blob(...)": per_call_us(lambda _: types.Blob(data=PCM, mime_type=MIME), items),
        "LiveSendRealtimeInputParameters.model_validate": per_call_us(
            lambda _: types.LiveSendRealtimeInputParameters.model_validate({"audio": blob}), items
        ),
        "_LiveSendRealtimeInputParameters_to_mldev": per_call_us(
            lambda _: conv._LiveSendRealtimeInputParameters_to_mldev(from_object=params), items
        ),
        "_common.convert_to_dict (model_dump)": per_call_us(lambda _: _common.convert_to_dict(mldev), items),
        "_common.encode_unserializable_types": per_call_us(
            lambda _: _common.encode_unserializable_types(as_dict), items
        ),
        "  of which base64.urlsafe_b64encode": per_call_us(
            lambda _: base64.urlsafe_b64encode(PCM).decode("ascii"), items
        ),
        "json.dumps": per_call_us(lambda _: json.dumps({"realtime_input": encoded}), items),
    }


def receive_steps(messages: list[bytes]) -> dict[str, float]:
    from google.genai import _live_converters as conv
    from google.genai import types

    from livecli.live import translate_message

    loaded = [json.loads(m) for m in messages]
    converted = [conv._LiveServerMessage_from_mldev(m) for m in loaded]
    kwargs = types.LiveServerMessage().model_dump()
    models = [
        types.LiveServerMessage._from_response(response=json.loads(json.dumps(c)), kwargs=kwargs) for c in converted
    ]
    fresh = [json.dumps(c) for c in converted]  # _from_response mutates its input: give each pass a copy
    # what the audio payload alone costs to decode (pydantic does it inside model_validate)
    datas = [
        m["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"]
        for m in loaded
        if "modelTurn" in m.get("serverContent", {})
    ]
    copies = [json.loads(c) for c in fresh]
    steps = {
        "json.loads": per_call_us(json.loads, messages),
        "_LiveServerMessage_from_mldev": per_call_us(conv._LiveServerMessage_from_mldev, loaded),
        "LiveServerMessage().model_dump() (per message)": per_call_us(
            lambda _: types.LiveServerMessage().model_dump(), messages
        ),
    }
    start = time.process_time()
    for c in copies:
        types.LiveServerMessage._from_response(response=c, kwargs=kwargs)
    steps["LiveServerMessage._from_response"] = (time.process_time() - start) / len(copies) * 1e6
    copies = [json.loads(c) for c in fresh]
    start = time.process_time()
    for c in copies:
        types.LiveServerMessage.model_validate(c)
    steps["  of which model_validate"] = (time.process_time() - start) / len(copies) * 1e6
    steps["  base64 decode of the audio (per audio message)"] = per_call_us(base64.b64decode, datas)
    steps["(livecli) translate_message"] = per_call_us(translate_message, models)
    return steps


# --------------------------------------------------------------------------- report


def profile_text(profile: cProfile.Profile, limit: int = 14) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reply-seconds", type=float, default=60.0)
    parser.add_argument("--paced-sends", type=int, default=150, help="sends at a live pace (one per --interval)")
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--paced-reply-seconds", type=float, default=5.0)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()

    wall = time.monotonic()
    server = FakeServerProcess(
        reply_seconds=args.reply_seconds, send_speed=50.0, response_delay=0.0, turn_complete_after_playback=False
    ).start()
    os.environ.pop("GOOGLE_API_KEY", None)
    os.environ.update(server.client_env())
    figures: dict = {}
    profiles: dict[str, str] = {}
    try:
        for name, compression in (("deflate", "deflate"), ("none", None)):
            figures[name] = asyncio.run(measure(compression, args.sends, args.rounds))
        messages = figures["none"].pop("messages")
        figures["deflate"].pop("messages")
        steps_send = send_steps(args.sends)
        steps_receive = receive_steps(messages)
        over = any(figures[c]["sdk"][k] > TARGET_US for c in figures for k in ("send_us", "receive_us"))
        if over and not args.no_profile:
            wanted = asyncio.run(profile_sdk(args.sends // 2))
            profiles = {kind: profile_text(profile) for kind, profile in wanted.items()}
    finally:
        server.stop()
    paced_server = FakeServerProcess(
        reply_seconds=args.paced_reply_seconds, send_speed=1.0, response_delay=0.0, turn_complete_after_playback=False
    ).start()
    os.environ.update(paced_server.client_env())
    paced: dict = {}
    try:
        for name, compression in (("deflate", "deflate"), ("none", None)):
            paced[name] = asyncio.run(measure_paced(compression, args.paced_sends, args.interval))
    finally:
        paced_server.stop()

    def breakdown(kind: str, comp: str) -> dict:
        sdk, raw = figures[comp]["sdk"], figures[comp]["raw"]
        total = sdk[f"{kind}_us"]
        if kind == "send":
            s = steps_send
            json_b64 = s["json.dumps"] + s["  of which base64.urlsafe_b64encode"]
            pyd = (
                s["types.Blob(...)"]
                + s["LiveSendRealtimeInputParameters.model_validate"]
                + s["_LiveSendRealtimeInputParameters_to_mldev"]
                + s["_common.convert_to_dict (model_dump)"]
                + s["_common.encode_unserializable_types"]
                - s["  of which base64.urlsafe_b64encode"]
            )
        else:
            s = steps_receive
            json_b64 = s["json.loads"]  # base64 is decoded inside pydantic's model_validate
            pyd = (
                s["_LiveServerMessage_from_mldev"]
                + s["LiveServerMessage().model_dump() (per message)"]
                + s["LiveServerMessage._from_response"]
            )
        ws = raw[f"{kind}_us"]
        return {
            "total_us": round(total, 1),
            "websocket_tls_us": round(ws, 1),
            "sdk_own_us": round(total - ws, 1),
            "pydantic_converters_us": round(pyd, 1),
            "json_base64_us": round(json_b64, 1),
            "unaccounted_us": round(total - ws - pyd - json_b64, 1),
        }

    summary = {comp: {kind: breakdown(kind, comp) for kind in ("send", "receive")} for comp in figures}
    print("SDK cost per Live message (CPU time of the client process; server in its own process)")
    print(
        f"send: {args.sends} x send_realtime_input(3200-byte Blob) x {args.rounds} rounds; "
        f"receive: {figures['none']['messages_per_turn']} messages per turn x {args.rounds} rounds"
    )
    print()
    header = f"{'compression':<12}{'':<9}{'SDK total':>10}{'ws+TLS':>9}{'SDK own':>9}{'pydantic':>10}{'json/b64':>10}{'rest':>8}   (us/message)"
    print(header)
    for comp, kinds in summary.items():
        for kind, b in kinds.items():
            print(
                f"{comp:<12}{kind:<9}{b['total_us']:>10}{b['websocket_tls_us']:>9}{b['sdk_own_us']:>9}"
                f"{b['pydantic_converters_us']:>10}{b['json_base64_us']:>10}{b['unaccounted_us']:>8}"
            )
    print(
        f"\nat a live pace (one send every {args.interval * 1000:.0f} ms; a {args.paced_reply_seconds:g} s reply streamed at 1x, "
        f"{paced['none']['messages_per_turn']} messages): caches are cold for each message"
    )
    print(f"{'compression':<12}{'':<9}{'SDK total':>10}{'ws+TLS':>9}{'SDK own':>9}   (us/message)")
    for comp, f in paced.items():
        for kind in ("send", "receive"):
            total, ws = f["sdk"][f"{kind}_us"], f["raw"][f"{kind}_us"]
            print(f"{comp:<12}{kind:<9}{total:>10.1f}{ws:>9.1f}{total - ws:>9.1f}")
    print(
        f"\nnegotiated extensions: deflate run: {figures['deflate']['negotiated']}; none run: {figures['none']['negotiated']}"
    )
    print("rounds (us/message):")
    for c in figures:
        print(f"  {c:<8}" + "; ".join(f"{k} {v}" for k, v in figures[c]["rounds"].items()))
    print("\nSDK steps in isolation (us per call), send:")
    for name, value in steps_send.items():
        print(f"  {name:<52}{value:>8.1f}")
    print("receive (mean over the recorded turn's messages):")
    for name, value in steps_receive.items():
        print(f"  {name:<52}{value:>8.1f}")
    for kind, text in profiles.items():
        print(f"\ncProfile (CPU time) of {kind} through the SDK, compression none, by own time:\n{text}")
    verdict = {
        comp: {
            f"{kind}_{part}": b[f"{part}_us"] <= TARGET_US for kind, b in kinds.items() for part in ("total", "sdk_own")
        }
        for comp, kinds in summary.items()
    }
    print(f"\nrun time {time.monotonic() - wall:.1f} s")
    print(
        json.dumps(
            {
                "sdk_cost": summary,
                "steps_send_us": {k.strip(): round(v, 1) for k, v in steps_send.items()},
                "steps_receive_us": {k.strip(): round(v, 1) for k, v in steps_receive.items()},
                "messages_per_turn": figures["none"]["messages_per_turn"],
                "rounds_us": {c: figures[c]["rounds"] for c in figures},
                "within_target_100us": verdict,
                "paced_us": {
                    comp: {
                        kind: {
                            "total_us": round(f["sdk"][f"{kind}_us"], 1),
                            "websocket_tls_us": round(f["raw"][f"{kind}_us"], 1),
                            "sdk_own_us": round(f["sdk"][f"{kind}_us"] - f["raw"][f"{kind}_us"], 1),
                        }
                        for kind in ("send", "receive")
                    }
                    for comp, f in paced.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
