"""What a conversation costs: published prices per model and modality, and estimates from usage.

At the bottom of the house (no I/O): the live meter, `sessions` and `usage` all price
the same way. The service reports each turn's own usage, the whole context so far
included (it is billed again on every turn), so a session's tokens are the sum of its
reports. A price nobody published is not guessed: the estimate says what it could not
price, and a model without prices is "unknown price" until config.toml gives them
(`[prices."MODEL"]`, with the keys in PRICE_KEYS).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from livecli import records
from livecli.errors import ConfigError

# USD per million tokens: input by the modality the service reports, output likewise.
PRICE_KEYS = ("input_text", "input_audio", "input_image", "input_video", "output_text", "output_audio")
Overrides = Mapping[str, Mapping[str, float]]  # model -> price key -> USD per million tokens

PRICING_PAGE = "https://ai.google.dev/gemini-api/docs/pricing"
BUDGET_WARNING = 0.8  # of a budget: from here on the status line warns


@dataclasses.dataclass(frozen=True)
class Prices:
    per_million: Mapping[str, float]  # price key -> USD per million tokens; a key left out has no known price
    as_of: str  # the day the source was read
    source: str


# Paid tier, standard (not batch). Gemini 3.8 Live, 3.8 Live Extended Thinking and 3.1 Flash Live
# Preview share one section of the pricing page: input $0.75 text, $3.00 audio, $1.00 image/video;
# output (thinking included) $4.50 text, $12.00 audio. The audio prices are also in Google's launch
# post of 2026-09-15 ($0.005/min in, $0.018/min out, "based on $3 / $12 per 1M tokens").
_LIVE_3 = {
    "input_text": 0.75,
    "input_audio": 3.00,
    "input_image": 1.00,
    "input_video": 1.00,
    "output_text": 4.50,
    "output_audio": 12.00,
}
# 2.5 Flash native audio: input $0.50 text, $3.00 audio / video; output $2.00 text, $12.00 audio
# (image input is not listed).
_NATIVE_AUDIO_2_5 = {
    "input_text": 0.50,
    "input_audio": 3.00,
    "input_video": 3.00,
    "output_text": 2.00,
    "output_audio": 12.00,
}
PUBLISHED: dict[str, Prices] = {
    "gemini-3.8-live": Prices(_LIVE_3, "2026-09-26", PRICING_PAGE + "#gemini-3.8-live"),
    "gemini-3.8-live-extended-thinking": Prices(_LIVE_3, "2026-09-26", PRICING_PAGE + "#gemini-3.8-live"),
    "gemini-3.1-flash-live-preview": Prices(_LIVE_3, "2026-03-30", PRICING_PAGE + "#gemini-3.1-flash-live-preview"),
    "gemini-2.5-flash-native-audio-preview-12-2025": Prices(_NATIVE_AUDIO_2_5, "2026-03-30", PRICING_PAGE),
    "gemini-2.5-flash-native-audio-preview-09-2025": Prices(_NATIVE_AUDIO_2_5, "2025-10-31", PRICING_PAGE),
}
# Left out, no per-token price found published: gemini-3.5-live-translate-preview.


@dataclasses.dataclass(frozen=True)
class UsageTotals:
    """Tokens summed over usage reports; by modality as the service names them ("AUDIO", "TEXT", …)."""

    prompt: int = 0
    response: int = 0
    total: int = 0
    thoughts: int = 0
    tool_use_prompt: int = 0
    prompt_by_modality: dict[str, int] = dataclasses.field(default_factory=dict)
    response_by_modality: dict[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, report: records.UsageReport) -> UsageTotals:
        """One report's counts (a stored one may be old or damaged: what is not a count is 0)."""
        return cls(
            prompt=_count(report.prompt_tokens),
            response=_count(report.response_tokens),
            total=_count(report.total_tokens),
            thoughts=_count(report.thoughts_tokens),
            tool_use_prompt=_count(report.tool_use_prompt_tokens),
            prompt_by_modality=_by_modality(report.prompt_details),
            response_by_modality=_by_modality(report.response_details),
        )

    def __add__(self, other: UsageTotals) -> UsageTotals:
        return UsageTotals(
            prompt=self.prompt + other.prompt,
            response=self.response + other.response,
            total=self.total + other.total,
            thoughts=self.thoughts + other.thoughts,
            tool_use_prompt=self.tool_use_prompt + other.tool_use_prompt,
            prompt_by_modality=_merged(self.prompt_by_modality, other.prompt_by_modality),
            response_by_modality=_merged(self.response_by_modality, other.response_by_modality),
        )


@dataclasses.dataclass(frozen=True)
class Cost:
    """An estimate in USD. `usd` is None when nothing used has a known price ("unknown price");
    otherwise it is the cost of what could be priced, and `unpriced_tokens` says how many
    tokens it leaves out (then it is a lower bound), `reasons` why."""

    usd: float | None
    unpriced_tokens: int = 0
    reasons: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.usd is not None and not self.unpriced_tokens

    def __str__(self) -> str:
        if self.usd is None:
            return "unknown price"
        return ("" if self.complete else "≥ ") + usd_text(self.usd)

    def as_json(self) -> dict[str, Any]:
        return {
            "usd": self.usd,
            "complete": self.complete,
            "unpriced_tokens": self.unpriced_tokens,
            "reasons": list(self.reasons),
        }

    def __add__(self, other: Cost) -> Cost:
        usd = None if self.usd is None and other.usd is None else (self.usd or 0.0) + (other.usd or 0.0)
        reasons = self.reasons + tuple(r for r in other.reasons if r not in self.reasons)
        return Cost(usd, self.unpriced_tokens + other.unpriced_tokens, reasons)


def usd_text(usd: float) -> str:
    """Cents for sums, tenths of a cent below one cent (a short session costs that little)."""
    return f"${usd:.4f}" if usd < 0.01 else f"${usd:,.2f}"


def prices_for(model: str, overrides: Overrides | None = None) -> Prices | None:
    """The published prices of `model` with config.toml's on top, or None when there are none."""
    name = _model_name(model)
    published = PUBLISHED.get(name)
    override = {_model_name(m): p for m, p in (overrides or {}).items()}.get(name)
    if not override:
        return published
    if published is None:
        return Prices(dict(override), "", "config.toml")
    return Prices({**published.per_million, **override}, published.as_of, f"config.toml over {published.source}")


def estimate(model: str, usage: UsageTotals, overrides: Overrides | None = None) -> Cost:
    """What `usage` of `model` costs. Tool-use prompt tokens (function responses) are input
    text, thinking tokens output text; tokens the service gave no modality for stay unpriced."""
    prices = prices_for(model, overrides)
    billable = usage.prompt + usage.response + usage.thoughts + usage.tool_use_prompt
    if prices is None:
        name = _model_name(model)
        return Cost(None, billable, (f'no prices known for {name}: set [prices."{name}"] in config.toml',))
    usd, priced, unpriced, reasons = 0.0, 0, 0, []
    charges = [
        *((f"input_{modality.lower()}", count) for modality, count in usage.prompt_by_modality.items()),
        ("input_text", usage.tool_use_prompt),
        *((f"output_{modality.lower()}", count) for modality, count in usage.response_by_modality.items()),
        ("output_text", usage.thoughts),
    ]
    for key, count in charges:
        if not count:
            continue
        price = prices.per_million.get(key)
        if price is None:
            unpriced += count
            reasons.append(f"no {key} price for {_model_name(model)}")
        else:
            usd += count * price / 1e6
            priced += count
    for side, count in (
        ("input", usage.prompt - sum(usage.prompt_by_modality.values())),
        ("output", usage.response - sum(usage.response_by_modality.values())),
    ):
        if count > 0:
            unpriced += count
            reasons.append(f"{count:,} {side} tokens without a modality")
    if unpriced and not priced:
        return Cost(None, unpriced, tuple(reasons))
    return Cost(usd, unpriced, tuple(reasons))


def parse_overrides(table: Any, *, source: str) -> dict[str, dict[str, float]]:
    """config.toml's `[prices."MODEL"]` tables, checked: the keys of PRICE_KEYS, USD per million tokens."""
    if not isinstance(table, dict):
        raise ConfigError(f'{source}: prices must be tables of models, such as [prices."gemini-3.8-live"]')
    found: dict[str, dict[str, float]] = {}
    for model, values in table.items():
        where = f'{source}: [prices."{model}"]'
        if not isinstance(values, dict):
            raise ConfigError(f"{where} must be a table of prices ({', '.join(PRICE_KEYS)})")
        for key, value in values.items():
            if key not in PRICE_KEYS:
                raise ConfigError(f"{where}: unknown key '{key}' (known keys: {', '.join(PRICE_KEYS)})")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ConfigError(f"{where}: bad value for '{key}': expected USD per million tokens, a number from 0")
        found[_model_name(model)] = {key: float(value) for key, value in values.items()}
    return found


def _model_name(model: str) -> str:
    return model.removeprefix("models/")


def _count(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0


def _by_modality(details: Any) -> dict[str, int]:
    if not isinstance(details, dict):
        return {}
    return {str(modality).upper(): n for modality, value in details.items() if (n := _count(value))}


def _merged(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    return {key: a.get(key, 0) + b.get(key, 0) for key in {**a, **b}}
