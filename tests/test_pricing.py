"""Prices and cost estimates: the published table, config.toml's overrides, and what stays unknown."""

import re

import pytest

from livecli import pricing, records
from livecli.errors import ConfigError
from livecli.pricing import Cost, UsageTotals, estimate

# A turn as gemini-3.8-live reports it (usageMetadata of a real session, from the Google AI forum):
# 25 prompt tokens come without a modality.
REPORTED = records.UsageReport(
    prompt_tokens=522,
    response_tokens=42,
    total_tokens=564,
    prompt_details={"TEXT": 332, "AUDIO": 165},
    response_details={"AUDIO": 42},
    thoughts_tokens=136,
)


def test_every_published_price_says_when_and_where_it_was_read():
    for model, prices in pricing.PUBLISHED.items():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", prices.as_of), model
        assert prices.source.startswith(pricing.PRICING_PAGE), model
        assert set(prices.per_million) <= set(pricing.PRICE_KEYS) and prices.per_million, model
    assert "gemini-3.5-live-translate-preview" not in pricing.PUBLISHED  # no per-token price was found


def test_a_turn_is_priced_by_modality_and_what_has_no_modality_is_left_out():
    cost = estimate("gemini-3.8-live", UsageTotals.of(REPORTED))
    # 332 text and 165 audio in, 42 audio out, 136 thinking (output text)
    assert cost.usd == pytest.approx((332 * 0.75 + 165 * 3.00 + 42 * 12.00 + 136 * 4.50) / 1e6)
    assert (cost.unpriced_tokens, cost.reasons) == (25, ("25 input tokens without a modality",))
    assert (cost.complete, str(cost)) == (False, "≥ $0.0019")


def test_a_fully_described_session_has_a_complete_price():
    turn = UsageTotals.of(records.UsageReport(1000, 2000, 3000, {"AUDIO": 1000}, {"AUDIO": 2000}))
    hour = sum([turn] * 100, UsageTotals())
    cost = estimate("models/gemini-3.1-flash-live-preview", hour)
    assert (hour.prompt, hour.prompt_by_modality, hour.response_by_modality) == (
        100_000,
        {"AUDIO": 100_000},
        {"AUDIO": 200_000},
    )
    assert cost == Cost(100_000 * 3.00 / 1e6 + 200_000 * 12.00 / 1e6)
    assert (cost.complete, str(cost)) == (True, "$2.70")


def test_a_model_without_prices_is_unknown_until_config_gives_them():
    usage = UsageTotals.of(REPORTED)
    cost = estimate("gemini-9-live", usage)
    assert (cost.usd, str(cost), cost.unpriced_tokens) == (None, "unknown price", 522 + 42 + 136)
    assert cost.reasons == ('no prices known for gemini-9-live: set [prices."gemini-9-live"] in config.toml',)
    assert str(estimate("gemini-9-live", UsageTotals())) == "unknown price"  # before the first report too
    overrides = pricing.parse_overrides(
        {"gemini-9-live": {"input_text": 1, "input_audio": 2, "output_audio": 4, "output_text": 1}},
        source="config.toml",
    )
    assert estimate("gemini-9-live", usage, overrides).usd == pytest.approx((332 + 165 * 2 + 42 * 4 + 136) / 1e6)


def test_config_overrides_one_price_and_keeps_the_others():
    overrides = pricing.parse_overrides({"models/gemini-3.8-live": {"output_audio": 6}}, source="config.toml")
    prices = pricing.prices_for("gemini-3.8-live", overrides)
    assert prices.per_million["output_audio"] == 6.0 and prices.per_million["input_audio"] == 3.00
    assert prices.source.startswith("config.toml over ")
    assert (
        pricing.prices_for("gemini-3.8-live-extended-thinking", overrides)
        == pricing.PUBLISHED["gemini-3.8-live-extended-thinking"]
    )


def test_a_modality_the_model_has_no_price_for_is_named():
    usage = UsageTotals.of(records.UsageReport(300, 0, 300, {"TEXT": 100, "IMAGE": 200}))
    cost = estimate("gemini-2.5-flash-native-audio-preview-12-2025", usage)  # image input is not on the page
    assert (cost.usd, cost.unpriced_tokens) == (pytest.approx(100 * 0.50 / 1e6), 200)
    assert cost.reasons == ("no input_image price for gemini-2.5-flash-native-audio-preview-12-2025",)


def test_reports_without_details_cannot_be_priced():
    """Usage stored before the details were kept: the tokens are known, not what they cost."""
    cost = estimate("gemini-3.8-live", UsageTotals.of(records.UsageReport(100, 50, 150)))
    assert (cost.usd, cost.unpriced_tokens) == (None, 150)


def test_costs_add_up_and_unknown_stays_unknown():
    assert Cost(0.5) + Cost(0.25) == Cost(0.75)
    assert Cost(None, 10, ("a",)) + Cost(None, 5, ("a",)) == Cost(None, 15, ("a",))
    assert str(Cost(1.0) + Cost(None, 7, ("b",))) == "≥ $1.00"


def test_damaged_counts_read_as_nothing():
    odd = records.UsageReport(
        prompt_tokens=None,
        response_tokens="12",
        total_tokens=True,
        prompt_details=["AUDIO"],
        response_details={"audio": 3.0},
    )
    assert UsageTotals.of(odd) == UsageTotals(response_by_modality={"AUDIO": 3})


@pytest.mark.parametrize(
    "table, message",
    [
        ([1, 2], 'config.toml: prices must be tables of models, such as [prices."gemini-3.8-live"]'),
        (
            {"m": 3},
            'config.toml: [prices."m"] must be a table of prices (input_text, input_audio, input_image, input_video, output_text, output_audio)',
        ),
        (
            {"m": {"audio_in": 3}},
            "config.toml: [prices.\"m\"]: unknown key 'audio_in' (known keys: input_text, input_audio, ",
        ),
        (
            {"m": {"input_audio": "3"}},
            "config.toml: [prices.\"m\"]: bad value for 'input_audio': expected USD per million tokens, a number from 0",
        ),
        ({"m": {"input_audio": -1}}, "bad value for 'input_audio'"),
        ({"m": {"input_audio": True}}, "bad value for 'input_audio'"),
        ({"m": {"input_audio": float("nan")}}, "bad value for 'input_audio'"),
    ],
)
def test_bad_price_tables_are_one_line_errors(table, message):
    with pytest.raises(ConfigError) as raised:
        pricing.parse_overrides(table, source="config.toml")
    assert message in str(raised.value) and "\n" not in str(raised.value)
