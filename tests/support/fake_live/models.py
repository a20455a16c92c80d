"""The models the fake serves, with what each accepts in its setup (the service's own knowledge,
kept apart from livecli's table so a mistake in one shows up against the other).

Sources: the ai.google.dev model pages and Live guide (Sept 2026), summed up in NOTES.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from . import wire
from .wire import g


@dataclass(frozen=True)
class ModelRules:
    modalities: frozenset[str]  # response modalities it can answer in
    refused: tuple[str, ...] = ()  # setup fields (dotted paths) that make it refuse the setup
    refused_tools: tuple[str, ...] = ()  # tool kinds it cannot use
    default_behavior: str = "BLOCKING"  # of a function declared without `behavior`
    thinking_levels: frozenset[str] = field(default_factory=frozenset)
    background: bool = False  # works on after a turn: interactionStatus IN_PROGRESS, then IDLE
    translate: bool = False  # speech-to-speech translation: needs translationConfig


_NOT_FOR_38 = ("proactivity", "generationConfig.enableAffectiveDialog", "generationConfig.translationConfig")

MODELS: dict[str, ModelRules] = {
    "gemini-3.8-live": ModelRules(
        frozenset({"AUDIO"}),
        refused=(*_NOT_FOR_38, "generationConfig.thinkingConfig"),
        refused_tools=("codeExecution", "urlContext"),
        default_behavior="NON_BLOCKING",
    ),
    "gemini-3.8-live-extended-thinking": ModelRules(
        frozenset({"AUDIO"}),
        refused=_NOT_FOR_38,
        refused_tools=("codeExecution", "urlContext"),
        default_behavior="NON_BLOCKING",
        thinking_levels=frozenset({"LOW", "MEDIUM", "HIGH"}),
        background=True,
    ),
    "gemini-3.5-live-translate-preview": ModelRules(
        frozenset({"AUDIO"}),
        refused=("tools", "systemInstruction", "proactivity", "generationConfig.thinkingConfig"),
        translate=True,
    ),
    # older models the tests still use
    "gemini-live-2.5-flash-preview": ModelRules(frozenset({"AUDIO", "TEXT"})),
    "gemini-2.5-flash-native-audio-preview-12-2025": ModelRules(frozenset({"AUDIO"})),
}


def model_name(setup: Mapping) -> str:
    """'models/x', 'publishers/google/models/x' or 'projects/…/models/x' -> 'x'."""
    return str(setup.get("model") or "").rsplit("models/", 1)[-1]


def refusal(setup: Mapping, models: Mapping[str, ModelRules], version: str) -> tuple[int, str] | None:
    """How the service would refuse this setup, or None if it takes it."""
    name = model_name(setup)
    rules = models.get(name)
    if rules is None:
        return wire.model_not_found(name, version)
    gen = g(setup, "generation_config") or {}
    modalities = [str(m).upper() for m in (g(gen, "response_modalities") or ["AUDIO"])]
    if len(modalities) > 1:
        return wire.ONE_MODALITY
    if not set(modalities) <= rules.modalities:
        return wire.modalities_refused(modalities)
    if any(_has(setup, path) for path in rules.refused):
        return wire.INVALID_ARGUMENT
    if any(g(tool, kind) is not None for tool in g(setup, "tools") or [] for kind in rules.refused_tools):
        return wire.INVALID_ARGUMENT
    thinking = g(gen, "thinking_config")
    if thinking is not None:
        level = str(g(thinking, "thinking_level") or "").upper()
        if rules.thinking_levels and level and level not in rules.thinking_levels:
            return wire.INVALID_ARGUMENT
    if rules.translate and not g(g(gen, "translation_config"), "target_language_code"):
        return wire.INVALID_ARGUMENT
    return None


def _has(setup: Mapping, path: str) -> bool:
    node: object = setup
    for key in path.split("."):
        node = g(node, _snake(key))  # type: ignore[arg-type]
        if node is None:
            return False
    return True


def _snake(camel: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel)
