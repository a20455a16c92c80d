"""The other Live models end to end, speech into a real microphone (PulseAudio rig): `livecli
translate` (the translation heard, both sides labelled, the session kept and replayable like any
other) and `talk --think` (a filler, work in the background, then the answer)."""

from __future__ import annotations

import pytest

from tests.support.fake_live import FakeLiveServer
from tests.support.livecli_process import start_livecli, stop_livecli
from tests.support.pulse_rig import pulse_rig_fixture, tone_segments

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pulse_rig():
    yield from pulse_rig_fixture()


def test_you_speak_and_hear_the_translation_both_sides_labelled(pulse_rig, isolated_env, run_cli):
    server = FakeLiveServer(user_transcripts=["good morning"], reply_text="Bonjour.", reply_seconds=1.0)
    with server:
        env = pulse_rig.subprocess_env(server.subprocess_env(isolated_env))
        recorder = pulse_rig.record_speaker()
        process = start_livecli(env, "translate", "--to", "fr", "--from", "en", "--plain", "--echo", "off")
        try:
            assert server.wait_for(lambda: len(server.audio_in) >= 5, timeout=20), "no microphone audio arrived"
            pulse_rig.speak("Good morning.")
            assert server.wait_event("turn_complete", timeout=15), "no translation came"
            server.wait_for(lambda: False, timeout=1.5)  # let it play
        finally:
            out, err = stop_livecli(process)
            recording = recorder.stop()
    assert process.returncode == 0, err
    setup = server.setups[0]
    assert setup["model"] == "models/gemini-3.5-live-translate-preview"
    translation = setup["generationConfig"].get("translationConfig") or setup["generationConfig"]["translation_config"]
    assert translation.get("targetLanguageCode", translation.get("target_language_code")) == "fr"
    assert "tools" not in setup and "systemInstruction" not in setup  # the interpreter takes neither
    assert out.splitlines() == ["You (en): good morning", "Translation (fr): Bonjour."]
    assert tone_segments(recording, recorder.rate, 440.0), "the translation was not heard"

    replayed = run_cli("replay", "--no-audio", "--speed", "0", env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.splitlines() == ["You: good morning", "Translation: Bonjour."]


def test_translate_needs_a_target_language(run_cli):
    result = run_cli("translate")
    assert result.returncode == 2 and result.stderr.startswith("livecli: error: Missing option '--to'")


def test_think_works_in_the_background_and_speaks_again(pulse_rig, isolated_env):
    server = FakeLiveServer(
        user_transcripts=["plan my trip"],
        reply_text="Your trip is planned.",
        reply_seconds=1.0,
        filler_text="Let me think about that.",
        background_s=1.0,
    )
    with server:
        env = pulse_rig.subprocess_env(server.subprocess_env(isolated_env))
        process = start_livecli(env, "talk", "--think", "--think-level", "high", "--plain", "--echo", "off")
        try:
            assert server.wait_for(lambda: len(server.audio_in) >= 5, timeout=20), "no microphone audio arrived"
            pulse_rig.speak("Plan my trip.")
            assert server.wait_event("turn_complete", count=2, timeout=20), "no follow-up came"
            server.wait_for(lambda: False, timeout=1.5)  # let it play
        finally:
            out, err = stop_livecli(process)
    assert process.returncode == 0, err
    setup = server.setups[0]
    assert setup["model"] == "models/gemini-3.8-live-extended-thinking"
    thinking = setup["generationConfig"].get("thinkingConfig") or setup["generationConfig"]["thinking_config"]
    assert str(thinking.get("thinkingLevel", thinking.get("thinking_level"))).upper() == "HIGH"
    assert out.splitlines() == [
        "You: plan my trip",
        "Gemini: Let me think about that.",
        "Gemini: Your trip is planned.",
    ]
