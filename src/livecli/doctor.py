"""`livecli doctor`: one line per thing that must work, and the fix for each failure.

Checks run in the order a new user meets problems: PortAudio, devices,
config, API key, network, and last a real Live session (setup only), which
says what the service thinks of the key, the model and the settings. Each is
independent, so one failure does not hide the others. The API key is never
printed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shlex
import socket
import ssl
import time
import urllib.parse
from collections.abc import Iterator, Mapping

from livecli import keys, paths
from livecli.errors import AuthError, LivecliError
from livecli.settings import BadSetting, Settings, load_settings

GEMINI_HOST = "generativelanguage.googleapis.com"
CONNECT_TIMEOUT_S = 5.0
DEVICE_PROOF_S = 1.5  # an opened device must call back within this
SETUP_TIMEOUT_S = 15.0  # a Live session's setup must be answered within this
LISTEN_S = 1.5  # after setup: a quota refusal closes the session about 0.8 s after setupComplete


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        fix = f" -> fix: {self.fix}" if not self.ok and self.fix else ""
        return f"{mark}  {self.name}: {self.detail}{fix}"


def run_doctor(environ: Mapping[str, str]) -> int:
    """Print one line per check; the exit code is 1 if any failed."""
    failed = False
    for check in run_checks(environ):
        print(check.line(), flush=True)
        failed = failed or not check.ok
    return 1 if failed else 0


def run_checks(environ: Mapping[str, str]) -> Iterator[Check]:
    """Each check as it is done; the Live session is tried when the key and the service are there."""
    portaudio = check_portaudio()
    config = check_config(environ)
    try:
        chosen = load_settings(environ=environ)
    except LivecliError:
        chosen = Settings()
    yield portaudio
    if portaudio.ok:
        yield check_device("input", chosen.input_device)
        yield check_device("output", chosen.output_device)
    yield config
    key = check_key(environ)
    yield key
    endpoint = check_endpoint(environ)
    yield endpoint
    if key.ok and endpoint.ok:
        yield check_session(chosen, environ)


def check_portaudio() -> Check:
    from livecli.audio import portaudio

    try:
        version = portaudio.version()
    except LivecliError as exc:
        return Check("PortAudio", False, str(exc), portaudio.PORTAUDIO_HINT)
    return Check("PortAudio", True, version)


def check_device(direction: str, spec: str | None) -> Check:
    """The device resolves, opens in some format, and delivers audio."""
    from livecli.audio import devices, opening, portaudio

    kind = devices.kind_of(direction)
    pick_fix = "`livecli devices pick` chooses another"
    try:
        device = devices.resolve(spec, direction)
    except LivecliError as exc:
        found = any(d.channels(direction) for d in devices.list_devices())
        if found:
            return Check(kind, False, str(exc), pick_fix)
        reason = str(exc).removesuffix(f"; {devices.NOTHING_FOUND_HINT}")
        return Check(kind, False, reason, "plug one in, or start the sound server (`pulseaudio --start`, PipeWire)")
    calls = []

    def make_callback(fmt):
        def callback(data, frames, time_info, status):
            calls.append(1)
            if direction == "output":
                data[:] = bytes(len(data))

        return callback

    wanted = 16000 if direction == "input" else 24000
    try:
        with portaudio.lock:
            stream, fmt = opening.open_stream(
                portaudio.sounddevice(), device, direction, wanted, block_ms=20, make_callback=make_callback
            )
    except LivecliError as exc:
        return Check(kind, False, str(exc), f"close programs using it, or {pick_fix}")
    deadline = time.monotonic() + DEVICE_PROOF_S
    while not calls and time.monotonic() < deadline:
        time.sleep(0.02)
    opening.discard(stream)
    name = f"{device.index} '{device.name}' ({device.hostapi})"
    if not calls:
        return Check(kind, False, f"{name} opens at {fmt} but delivers no audio", pick_fix)
    return Check(kind, True, f"{name} works at {fmt}")


def check_config(environ: Mapping[str, str]) -> Check:
    """The settings load; the fix is one that works on the file as it is."""
    path = paths.config_file()
    try:
        load_settings(environ=environ)
    except BadSetting as exc:
        if exc.environment_variable:
            return Check("config", False, str(exc), f"`unset {exc.environment_variable}`, or give it a good value")
        return Check(
            "config", False, str(exc), f"`livecli config unset {exc.key}`, or `livecli config set {exc.key} VALUE`"
        )
    except LivecliError as exc:  # not TOML, not text, unreadable
        return Check(
            "config",
            False,
            str(exc),
            f"edit {path}, or move it aside to start afresh: `mv {shlex.quote(str(path))} {shlex.quote(str(path))}.bak`",
        )
    where = str(path) if path.exists() else f"{path} (none: defaults in use)"
    return Check("config", True, where)


def check_key(environ: Mapping[str, str]) -> Check:
    if keys.uses_vertex(environ):
        return Check("API key", True, "Vertex AI: Google Cloud credentials are used")
    try:
        found = keys.find_key(environ, paths.key_file())
    except LivecliError as exc:
        return Check("API key", False, str(exc), "`livecli keys delete`, then `livecli keys set`")
    if found is None:
        return Check("API key", False, "none configured", "set GEMINI_API_KEY or run `livecli keys set`")
    return Check("API key", True, f"set ({found[1]})")


def live_endpoint(environ: Mapping[str, str]) -> tuple[str, int]:
    """The host and port the SDK's Live websocket connects to."""
    if keys.uses_vertex(environ):
        base = environ.get("GOOGLE_VERTEX_BASE_URL")
        location = environ.get("GOOGLE_CLOUD_LOCATION", "global")
        default = "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
    else:
        base = environ.get("GOOGLE_GEMINI_BASE_URL")
        default = GEMINI_HOST
    if not base:
        return default, 443
    url = urllib.parse.urlsplit(base if "://" in base else f"https://{base}")
    return url.hostname or default, url.port or 443


def check_endpoint(environ: Mapping[str, str]) -> Check:
    """TCP, then TLS with the CA file the SDK would use, through a proxy if one applies."""
    host, port = live_endpoint(environ)
    name = f"Live service {host}:{port}"
    proxy = _proxy_for(host, environ)
    via = f" via proxy {proxy[0]}:{proxy[1]}" if proxy else ""
    started = time.monotonic()
    try:
        raw = socket.create_connection(proxy or (host, port), timeout=CONNECT_TIMEOUT_S)
    except OSError as exc:
        return Check(name, False, f"cannot connect{via}: {_reason(exc)}", "check the network, firewall or proxy")
    try:
        if proxy:
            _tunnel(raw, host, port)
        with _tls_context(environ).wrap_socket(raw, server_hostname=host) as tls:
            version = tls.version()
    except ssl.SSLError as exc:
        raw.close()
        return Check(
            name, False, f"TLS failed{via}: {_reason(exc)}", "if a proxy inspects TLS, point SSL_CERT_FILE at its CA"
        )
    except OSError as exc:
        raw.close()
        return Check(name, False, f"connection failed{via}: {_reason(exc)}", "check the network, firewall or proxy")
    return Check(name, True, f"reachable{via} ({version}, {(time.monotonic() - started) * 1000:.0f} ms)")


def check_session(chosen: Settings, environ: Mapping[str, str]) -> Check:
    """A real Live session with the key, model and settings talk would use: setup, a moment
    to hear a late refusal, close. The service's answer, with the fix for each refusal."""
    name = f"Live session ({chosen.model})"
    api_key = None if keys.uses_vertex(environ) else keys.require_key(environ, paths.key_file())
    try:
        setup_s = asyncio.run(_open_and_close(chosen, api_key))
    except LivecliError as exc:
        return Check(name, False, *session_failure(exc))
    if api_key is not None:
        keys.mark_accepted(api_key, paths.key_file())
    return Check(name, True, f"the service accepted the key and the settings (setup in {setup_s * 1000:.0f} ms)")


async def _open_and_close(chosen: Settings, api_key: str | None) -> float:
    """Seconds from connecting to setupComplete."""
    from livecli.live import LiveConnection  # google.genai: only this check needs it

    opened = None
    try:
        async with asyncio.timeout(SETUP_TIMEOUT_S) as deadline:
            started = time.monotonic()
            async with LiveConnection(chosen, api_key=api_key) as connection:
                opened = time.monotonic() - started
                deadline.reschedule(asyncio.get_running_loop().time() + LISTEN_S)
                async for _ in connection.events():  # ends by the deadline, or raises the service's refusal
                    pass
    except TimeoutError:
        if opened is None:
            raise LivecliError(f"the Live service did not answer the setup within {SETUP_TIMEOUT_S:.0f} s") from None
    return opened


def session_failure(error: LivecliError) -> tuple[str, str]:
    """The refusal, and what to do about it: its own advice (after " — ") is the fix where
    doctor knows no better."""
    detail, _, hint = str(error).partition(" — ")
    return detail, _session_fix(error, hint)


def _session_fix(error: LivecliError, hint: str) -> str:
    """From the service's words (the close reasons it sends)."""
    reason = str(error).lower()
    if "api key" in reason:
        return "the service refuses this key: make one at https://aistudio.google.com/apikey, then `livecli keys set`"
    if "does not know the model" in reason:
        return "`livecli models` lists the Live models the key can use; `livecli config set model MODEL` picks one"
    if hint:
        return hint
    if "answered http" in reason:
        return "check the model name (`livecli config show`) and the base URL the SDK is given (GOOGLE_*_BASE_URL)"
    if isinstance(error, AuthError):
        return (
            "the service refuses a setting: `livecli config show`, then unset the likely one (voice, language, system)"
        )
    return "check the network, firewall or proxy, and the Live service line above"


def _tls_context(environ: Mapping[str, str]) -> ssl.SSLContext:
    """As google-genai builds it: SSL_CERT_FILE, else certifi's bundle."""
    import certifi

    return ssl.create_default_context(
        cafile=environ.get("SSL_CERT_FILE", certifi.where()), capath=environ.get("SSL_CERT_DIR")
    )


def _proxy_for(host: str, environ: Mapping[str, str]) -> tuple[str, int] | None:
    """The HTTP proxy websockets would use for wss://host (from HTTPS_PROXY / NO_PROXY)."""
    proxies = {k.lower(): v for k, v in environ.items() if k.lower() in ("https_proxy", "all_proxy", "no_proxy")}
    url = proxies.get("https_proxy") or proxies.get("all_proxy")
    if not url or _bypassed(host, proxies.get("no_proxy", "")):
        return None
    parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname, parts.port or 8080


def _bypassed(host: str, no_proxy: str) -> bool:
    names = [n.strip().lstrip(".").lower() for n in no_proxy.split(",") if n.strip()]
    return "*" in names or any(host == n or host.endswith("." + n) for n in names)


def _tunnel(sock: socket.socket, host: str, port: int) -> None:
    sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        data = sock.recv(4096)
        if not data:
            break
        reply += data
    status = reply.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 200" not in status:
        raise OSError(f"the proxy refused the tunnel ({status or 'no answer'})")


def _reason(exc: Exception) -> str:
    if isinstance(exc, socket.gaierror):
        return f"DNS lookup failed ({exc.strerror})"
    if isinstance(exc, socket.timeout):
        return f"timed out after {CONNECT_TIMEOUT_S:.0f} s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    return getattr(exc, "strerror", None) or str(exc)
