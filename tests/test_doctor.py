"""`livecli doctor`: one line per check, a fix for each failure, exit 1 if any failed,
the key never printed. Devices are the PulseAudio rig's; the Live service is the
fake TLS server, a closed port, a server with an untrusted certificate, or the
fake server behind a small HTTP CONNECT proxy."""

import datetime
import socket
import subprocess
import sys
import threading

import pytest

from tests.support.fake_live import FakeLiveServer
from tests.support.pulse_rig import pulse_rig_fixture

pytestmark = pytest.mark.e2e

SECRET = "AIza-doctor-secret-key"


@pytest.fixture(scope="module")
def pulse_rig():
    yield from pulse_rig_fixture()


@pytest.fixture(scope="module")
def server():
    with FakeLiveServer(api_key=SECRET) as server:
        yield server


def doctor(env):
    result = subprocess.run(
        [sys.executable, "-m", "livecli", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert SECRET not in result.stdout + result.stderr
    return result


def failed_session_line(env) -> str:
    """doctor's last line (the Live session check), which must have failed."""
    result = doctor(env)
    assert result.returncode == 1, result.stdout
    return result.stdout.splitlines()[-1]


def test_everything_fine(pulse_rig, server, isolated_env, run_cli):
    env = pulse_rig.subprocess_env(dict(server.subprocess_env(isolated_env), GEMINI_API_KEY=SECRET))
    assert run_cli("keys", "status", env=env).stdout.splitlines()[1] == (
        "not yet used with the service (`livecli doctor` tries it)"
    )
    result = doctor(env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok    PortAudio",
        "ok    microphone",
        "ok    speaker",
        "ok    config",
        "ok    API key",
        "ok    Live service 127.0.0.1",
        "ok    Live session (gemini-3.8-live)",
    ]
    assert lines[1].endswith("'default' (ALSA) works at 16000 Hz mono")
    assert lines[2].endswith("'default' (ALSA) works at 24000 Hz mono")
    assert lines[3].endswith("(none: defaults in use)")
    assert lines[4] == "ok    API key: set (environment variable GEMINI_API_KEY)"
    assert "reachable (TLSv1.3, " in lines[5]
    assert lines[6].startswith(
        "ok    Live session (gemini-3.8-live): the service accepted the key and the settings (setup in "
    )
    assert result.stderr == ""
    setup = server.setups[-1]  # a real session, set up with what talk would send
    assert setup["model"].endswith("gemini-3.8-live")
    today = datetime.date.today().isoformat()
    assert (
        run_cli("keys", "status", env=env).stdout.splitlines()[1].startswith(f"last accepted by the service: {today} ")
    )


def test_a_key_the_service_refuses_fails_with_its_reason_and_the_fix(pulse_rig, server, isolated_env, run_cli):
    env = pulse_rig.subprocess_env(dict(server.subprocess_env(isolated_env), GEMINI_API_KEY="AIza-not-this-one"))
    result = doctor(env)
    assert result.returncode == 1
    assert result.stdout.splitlines()[4:] == [
        "ok    API key: set (environment variable GEMINI_API_KEY)",
        next(line for line in result.stdout.splitlines() if line.startswith("ok    Live service")),
        "FAIL  Live session (gemini-3.8-live): the Live service refused the session (1007): API key not valid. "
        "Please pass a valid API key. -> fix: the service refuses this key: make one at "
        "https://aistudio.google.com/apikey, then `livecli keys set`",
    ]
    assert "AIza-not-this-one" not in result.stdout + result.stderr
    assert run_cli("keys", "status", env=env).stdout.splitlines()[1].startswith("not yet used")


def test_a_project_out_of_quota_fails_with_the_service_words_and_the_fix(pulse_rig, isolated_env):
    """The service takes the setup, then closes about 0.8 s later (1011): doctor stays to hear it."""
    with FakeLiveServer(api_key=SECRET, quota_exceeded=True) as refusing:
        env = pulse_rig.subprocess_env(dict(refusing.subprocess_env(isolated_env), GEMINI_API_KEY=SECRET))
        assert failed_session_line(env) == (
            "FAIL  Live session (gemini-3.8-live): the Live service refused for quota (1011): You exceeded your current "
            "quota, please check your plan and billing details. For more information on this error, head to: h -> fix: "
            "wait for the quota to reset or raise it (https://ai.google.dev/gemini-api/docs/rate-limits); livecli does "
            "not retry"
        )


def test_a_model_the_service_does_not_know_is_named_with_the_fix(pulse_rig, server, isolated_env):
    env = pulse_rig.subprocess_env(
        dict(server.subprocess_env(isolated_env), GEMINI_API_KEY=SECRET, LIVECLI_MODEL="gemini-9-live")
    )
    assert failed_session_line(env) == (
        "FAIL  Live session (gemini-9-live): the Live service does not know the model 'gemini-9-live' or cannot do "
        "Live with it (API version v1) -> fix: `livecli models` lists the Live models the key can use; "
        "`livecli config set model MODEL` picks one"
    )


def test_each_failure_has_a_fix_and_the_others_still_run(pulse_rig, isolated_env, tmp_path):
    config = tmp_path / "config" / "livecli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('input_device = "webcam"\nvoice = \n')
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    env = pulse_rig.subprocess_env(dict(isolated_env, GOOGLE_GEMINI_BASE_URL=f"https://127.0.0.1:{port}"))
    result = doctor(env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok    PortAudio: PortAudio V19")
    assert lines[1].startswith("ok    microphone")  # the config is unreadable: the default is checked
    assert lines[3] == (
        f"FAIL  config: {config}: invalid TOML: Invalid value (at line 2, column 9) -> fix: edit {config}, "
        f"or move it aside to start afresh: `mv {config} {config}.bak`"
    )
    assert lines[4] == "FAIL  API key: none configured -> fix: set GEMINI_API_KEY or run `livecli keys set`"
    assert lines[5] == (
        f"FAIL  Live service 127.0.0.1:{port}: cannot connect: Connection refused -> fix: check the network, "
        "firewall or proxy"
    )

    config.write_text('input_device = "webcam"\n')
    lines = doctor(env).stdout.splitlines()
    assert lines[1].startswith("FAIL  microphone: no microphone matches 'webcam'; candidates: ")
    assert lines[1].endswith(" -> fix: `livecli devices pick` chooses another")


def test_an_untrusted_certificate_is_a_tls_failure(pulse_rig, server, isolated_env):
    env = pulse_rig.subprocess_env(dict(server.subprocess_env(isolated_env), GEMINI_API_KEY=SECRET))
    del env["SSL_CERT_FILE"]  # certifi's bundle does not know the fake server's CA
    line = doctor(env).stdout.splitlines()[5]
    assert line.startswith(f"FAIL  Live service 127.0.0.1:{server.base_url.rsplit(':', 1)[1]}: TLS failed: ")
    assert "certificate" in line and line.endswith("-> fix: if a proxy inspects TLS, point SSL_CERT_FILE at its CA")


def test_no_sound_server(isolated_env):
    env = dict(isolated_env, PULSE_SERVER="unix:/nonexistent/native", GEMINI_API_KEY=SECRET)
    lines = doctor(env).stdout.splitlines()
    assert lines[1] == (
        "FAIL  microphone: no microphone found: PortAudio sees none -> fix: plug one in, or start the sound server "
        "(`pulseaudio --start`, PipeWire)"
    )
    assert lines[2].startswith("FAIL  speaker: no speaker found: PortAudio sees none -> fix: ")


def test_missing_portaudio_is_named_with_the_package(isolated_env, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    # What `import sounddevice` raises when libportaudio2 is not installed.
    (broken / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    env = dict(
        isolated_env, PYTHONPATH=str(broken), GEMINI_API_KEY=SECRET, GOOGLE_GEMINI_BASE_URL="https://127.0.0.1:9"
    )
    result = doctor(env)
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("FAIL  PortAudio: PortAudio library not found (PortAudio library not found); ")
    assert "sudo apt-get install libportaudio2" in first
    assert not any(line.split(":")[0].endswith(("microphone", "speaker")) for line in result.stdout.splitlines())


@pytest.fixture
def connect_proxy():
    """An HTTP proxy that only does CONNECT, and records where it was asked to go."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    asked = []

    def relay(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            b.close()

    def serve():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(4096)
            host, port = request.split()[1].decode().rsplit(":", 1)
            asked.append(f"{host}:{port}")
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=relay, args=(client, upstream), daemon=True).start()
            threading.Thread(target=relay, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", asked
    listener.close()


def test_the_service_is_reached_through_https_proxy(pulse_rig, server, isolated_env, connect_proxy):
    proxy, asked = connect_proxy
    env = pulse_rig.subprocess_env(dict(server.subprocess_env(isolated_env), GEMINI_API_KEY=SECRET, HTTPS_PROXY=proxy))
    line = doctor(env).stdout.splitlines()[5]
    host_port = server.base_url.split("//")[1]
    assert line.startswith(f"ok    Live service {host_port}: reachable via proxy 127.0.0.1:")
    assert set(asked) == {host_port}  # the Live session too went through the proxy
    env["NO_PROXY"] = "127.0.0.1"
    assert "via proxy" not in doctor(env).stdout
