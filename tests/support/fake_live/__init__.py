"""A fake Gemini Live (BidiGenerateContent) service for tests, shaped like the real 2026 one.

The unmodified ``google-genai`` SDK connects to it through the environment
(:meth:`FakeLiveServer.patch_env` / :meth:`~FakeLiveServer.subprocess_env`)::

    GOOGLE_GEMINI_BASE_URL=https://127.0.0.1:PORT
    SSL_CERT_FILE=<trustme CA pem>
    GEMINI_API_KEY=<key>            (and GOOGLE_API_KEY unset)

(as Vertex in express mode when ``platform`` is "vertex" or "vertex-old"). The server speaks TLS
on 127.0.0.1 (certificate from a throwaway ``trustme`` CA), runs in a background thread with its
own asyncio loop, and plays a scripted model:

* energy VAD over the incoming 16 kHz int16 audio (RMS > ``vad_threshold`` is speech,
  ``silence_ms`` of quiet ends it; ``audioStreamEnd`` ends it at once); input transcription
  fragments while the user speaks (words of the next entry of ``user_transcripts``, cycling);
  optionally ``interimInputTranscription`` (``interim_transcripts``) and ``voiceActivity``;
* at the end of a user turn a model turn: 24 kHz int16 PCM in 200-240 ms parts sent at
  ``send_speed`` x real time, with output transcription slightly ahead, then
  ``generationComplete`` and ``turnComplete`` with this turn's ``usageMetadata`` in the same
  frame, then a ``sessionResumptionUpdate`` when the setup asked for resumption. As the SDK
  documents for the service, ``turnComplete`` waits until the reply would have finished playing
  (``turn_complete_after_playback=False`` sends it at once); ``pack_turn_end`` sends the last
  audio part, the rest of the transcription, generationComplete, turnComplete and usage in one
  message; ``thoughts`` adds a thought part; ``grounding`` adds groundingMetadata when the setup
  has Google Search; ``turn_complete_reason`` refuses a turn (``turnCompleteReason``;
  NEED_MORE_INPUT also says ``waitingForInput``);
* barge-in: user speech (or text) while the model is generating, or while its reply would
  still be audible on the client, sends ``interrupted`` (then ``turnComplete``) and starts the
  next user turn;
* tool calls (``tool_calls`` maps a regular expression searched in the user's words to calls;
  ids as the platform makes them: ``function-call-<digits>``, UUIDs on Vertex, none on older
  Vertex, then responses are matched by name; ``tool_code`` sends an executableCode part first).
  A BLOCKING call waits for its response and is cancelled (``toolCallCancellation``) by new
  input; a NON_BLOCKING call (the default of the 3.8 models) lets the model talk on
  (``interim_reply``) and its result is spoken per the response's ``scheduling``: WHEN_IDLE
  (default) after the current turn, INTERRUPT at once, SILENT never;
* the models of :data:`MODELS` with their setup rules; the extended-thinking model works in the
  background (``interactionStatus`` IN_PROGRESS, a filler, turnComplete, then the answer and IDLE);
* the service's refusals, worded as it words them (close reasons cut at 123 bytes): a bad key
  or token, an unknown model, an invalid setup, a quota exceeded (``quota_exceeded``: 1011 about
  0.8 s after setupComplete, on every connection), an old-style deadline cut
  (``connection_deadline``), a goAway ignored past its time, a stale resumption handle;
* ephemeral tokens: ``client.auth_tokens.create`` (REST) mints them, the constrained endpoint
  (``Authorization: Token auth_tokens/...``) takes them, applying their locked setup fields;
* on demand: ``goAway``, drops, error closes, tool call cancellation, any message.

The fake's clock runs ``speed`` times faster than real time (default 1): reply pacing, the
response delay, background work, the playback ``turnComplete`` waits for, goAway timing (the
wire's ``timeLeft`` is the real time left), the quota and deadline closes and the tool response
timeout are all divided by it. The VAD counts time in the audio it hears, so its silence and
transcript timing follow a microphone that runs at the same speed
(``tests.support.file_audio``).

Every message the server sends is validated first with :func:`validate_server_message`
(the SDK's own ``LiveServerMessage`` in strict mode plus a round trip) and goes out as
pretty-printed JSON in a binary frame, as the service's; a message that does not validate is a
bug in the fake: it is recorded in ``errors``, the connection is closed with 1011 and
:meth:`FakeLiveServer.stop` (or leaving the ``with`` block) raises.

Times recorded in :class:`Received` are ``time.monotonic()`` values.
"""

from .models import MODELS, ModelRules
from .server import FakeLiveServer
from .validation import InvalidServerMessage, validate_server_message
from .wire import AUDIO_TOKENS_PER_SECOND, Received, Turn, cut_reason, make_tone

__all__ = [
    "AUDIO_TOKENS_PER_SECOND",
    "FakeLiveServer",
    "InvalidServerMessage",
    "MODELS",
    "ModelRules",
    "Received",
    "Turn",
    "cut_reason",
    "make_tone",
    "validate_server_message",
]
