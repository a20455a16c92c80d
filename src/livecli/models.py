"""What differs between the Gemini Live models, in one table.

Sources: the ai.google.dev model pages and Live guide (September 2026), summed up in
/work/shared/NOTES.md. A model not in the table is taken at the user's word: livecli sends what
the settings ask for and lets the service say no.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class LiveModel:
    text_replies: bool = True  # can answer in TEXT; otherwise AUDIO only (text comes from its transcription)
    refused_fields: frozenset[str] = frozenset()  # LiveConnectConfig fields that make it refuse the setup
    thinking_levels: tuple[str, ...] = ()  # thinking levels it takes; none: no thinking_config at all
    translate_only: bool = False  # speech-to-speech interpreter: audio in, no tools, no system instruction
    tools: bool = True
    google_search: bool = True
    non_blocking_calls: bool = False  # function calls run in the background unless declared BLOCKING
    background_work: bool = False  # may speak again after a turn completes (interactionStatus)
    every_video_frame: bool = False  # its default turn coverage keeps (and bills) every frame sent


_NOT_FOR_38 = frozenset({"proactivity", "enable_affective_dialog", "translation_config"})

MODELS: dict[str, LiveModel] = {
    # the default: audio only, proactive audio always on (sending proactivity is an error),
    # no affective dialog, no thinking_config
    "gemini-3.8-live": LiveModel(
        text_replies=False,
        refused_fields=_NOT_FOR_38 | {"thinking_config"},
        non_blocking_calls=True,
        every_video_frame=True,
    ),
    "gemini-3.8-live-extended-thinking": LiveModel(
        text_replies=False,
        refused_fields=_NOT_FOR_38,
        thinking_levels=("low", "medium", "high"),
        non_blocking_calls=True,
        background_work=True,
        every_video_frame=True,
    ),
    "gemini-3.5-live-translate-preview": LiveModel(
        text_replies=False,
        refused_fields=frozenset({"tools", "system_instruction", "proactivity", "thinking_config"}),
        translate_only=True,
        tools=False,
        google_search=False,
    ),
}

UNLISTED = LiveModel()


def model_info(name: str) -> LiveModel:
    """The table's row for `name` ('models/' prefix allowed); an unlisted model gets no restrictions."""
    return MODELS.get(name.removeprefix("models/"), UNLISTED)


def can_reply_in_text(name: str) -> bool:
    """Whether `talk --text` can ask this model for TEXT; if not, livecli asks for audio with its
    transcription and keeps the speaker silent."""
    return model_info(name).text_replies
