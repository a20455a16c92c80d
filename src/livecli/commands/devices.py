"""`livecli devices`: list, test and choose the microphone and the speaker.

Audio modules (numpy, sounddevice) are imported inside the commands so
`livecli --help` stays light.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Optional

import typer

from livecli import config_file, paths, settings
from livecli.errors import AudioError
from livecli.settings import load_settings

DIRECTIONS = (("input", "microphone", "input_device"), ("output", "speaker", "output_device"))
INPUT_HELP = "Microphone: index or part of its name (default: from config, else the system default)."
OUTPUT_HELP = "Speaker: index or part of its name (default: from config, else the system default)."

devices_app = typer.Typer(help="List, test and choose audio devices.", invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.add_typer(devices_app, name="devices")


@devices_app.callback()
def devices(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the same as JSON."),
    input_device: Optional[str] = typer.Option(None, "--input", "--input-device", metavar="DEVICE", help=INPUT_HELP),
    output_device: Optional[str] = typer.Option(
        None, "--output", "--output-device", metavar="DEVICE", help=OUTPUT_HELP
    ),
) -> None:
    """Input and output devices, the system defaults, and the ones livecli will use."""
    if ctx.invoked_subcommand is not None:
        return
    flags = dict(input_device=input_device, output_device=output_device)
    listing = device_listing(load_settings(flags), flags)
    typer.echo(json.dumps(listing, indent=2) if as_json else render_table(listing))
    problems = [use["error"] for use in (listing["microphone"], listing["speaker"]) if "error" in use]
    if not listing["devices"]:
        from livecli.audio.devices import NOTHING_FOUND_HINT

        raise AudioError(f"PortAudio sees no audio devices; {NOTHING_FOUND_HINT}")
    if problems:
        raise AudioError(problems[0])


@devices_app.command("test")
def test(
    input_device: Optional[str] = typer.Option(None, "--input", "--input-device", metavar="DEVICE", help=INPUT_HELP),
    output_device: Optional[str] = typer.Option(
        None, "--output", "--output-device", metavar="DEVICE", help=OUTPUT_HELP
    ),
    seconds: float = typer.Option(3.0, "--seconds", min=1.0, max=30.0, metavar="SECONDS", help="How long to record."),
    tone: bool = typer.Option(False, "--tone", help="First play a test tone on the speaker."),
    echo: bool = typer.Option(False, "--echo", help="Measure the echo path: play a probe, report echo delay and ERLE."),
) -> None:
    """Record, play back, and say whether the microphone is fine.

    A level meter shows while it records; --tone first plays a tone, --echo measures the echo path instead.
    """
    chosen = load_settings(dict(input_device=input_device, output_device=output_device))
    if echo:
        from livecli.audio.echo_probe import measure_echo_path

        report = measure_echo_path(chosen.input_device, chosen.output_device)
        typer.echo("\n".join(report.lines()))
        raise typer.Exit(0 if report.verdict.startswith(("echo cancelled", "no echo")) else 1)
    ok = run_test(chosen.input_device, chosen.output_device, seconds=seconds, tone=tone)
    raise typer.Exit(0 if ok else 1)


@devices_app.command("pick")
def pick() -> None:
    """Choose the microphone and speaker, saved in config.toml.

    Arrow keys or a device's number, Enter to choose, d for the system default, Esc to cancel.
    """
    run_pick(load_settings({}))


# -- livecli devices ---------------------------------------------------------------------------


def device_listing(chosen: settings.Settings, flags: dict[str, str | None]) -> dict[str, Any]:
    """Every device, the system defaults and what livecli would use, as plain data."""
    from livecli.audio import devices

    found = devices.list_devices()
    defaults = {direction: devices.default_index(direction) for direction, _, _ in DIRECTIONS}
    listing: dict[str, Any] = {"devices": []}
    uses: dict[int, list[str]] = {}
    for direction, kind, key in DIRECTIONS:
        spec = getattr(chosen, key)
        use: dict[str, Any] = {"spec": spec, "source": _source(key, chosen, flags.get(key) is not None)}
        try:
            device = devices.match(spec, found, direction) if spec is not None else devices.default_device(direction)
        except AudioError as exc:
            use["error"] = str(exc)
        else:
            use.update(index=device.index, name=device.name)
            uses.setdefault(device.index, []).append(kind)
        listing[kind] = use
    for device in found:
        listing["devices"].append(
            dict(
                index=device.index,
                name=device.name,
                hostapi=device.hostapi,
                input_channels=device.max_input_channels,
                output_channels=device.max_output_channels,
                default_samplerate=device.default_samplerate,
                default_input=device.index == defaults["input"],
                default_output=device.index == defaults["output"],
                livecli_uses=uses.get(device.index, []),
            )
        )
    return listing


def _source(key: str, chosen: settings.Settings, flag_given: bool) -> str:
    """Where the device choice comes from, as `config show` says it."""
    if flag_given:
        return "option"
    if settings.ENV_PREFIX + key.upper() in os.environ:
        return "environment"
    return "config" if getattr(chosen, key) is not None else "system default"


def render_table(listing: dict[str, Any]) -> str:
    header = ("#", "name", "host API", "in", "out", "rate", "system default", "livecli uses")
    rows = [header]
    for d in listing["devices"]:
        default = "+".join(k for k, flag in (("input", d["default_input"]), ("output", d["default_output"])) if flag)
        rows.append(
            (
                str(d["index"]),
                d["name"],
                d["hostapi"],
                str(d["input_channels"]),
                str(d["output_channels"]),
                f"{d['default_samplerate']:.0f} Hz",
                default,
                "+".join(d["livecli_uses"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {0, 3, 4, 5}
    lines = [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]
    if len(rows) == 1:
        lines.append("(no devices)")
    for kind in ("microphone", "speaker"):
        use = listing[kind]
        origin = use["source"] if use["spec"] is None else f"{use['source']}: '{use['spec']}'"
        what = "not found (see the error)" if "error" in use else f"{use['index']} {use['name']}"
        lines.append(f"{kind}: {what}  ({origin})")
    return "\n".join(lines)


# -- livecli devices test ----------------------------------------------------------------------


def run_test(input_spec: str | None, output_spec: str | None, *, seconds: float, tone: bool) -> bool:
    import asyncio

    from livecli.audio import devices, selftest, verdict
    from livecli.audio.streams import Microphone, Speaker

    mic = Microphone(input_spec, chunk_ms=selftest.METER_CHUNK_MS)
    speaker = Speaker(output_spec)
    for kind, stream in (("microphone", mic), ("speaker", speaker)):
        rates = devices.supported_rates(stream.device, stream.direction)
        accepted = ", ".join(str(r) for r in rates) if rates else "none of the common rates"
        typer.echo(
            f"{kind}: {stream.device.index} {stream.device.name} ({stream.device.hostapi}); accepts {accepted} Hz"
        )

    meter = _Meter(sys.stdout)

    async def session() -> tuple[bytes, bool]:
        if tone:
            typer.echo(f"playing a {selftest.TONE_S:.0f} s {selftest.TONE_HZ:.0f} Hz tone…")
            await selftest.play(speaker, selftest.tone())
            _say_format("speaker", speaker)
        typer.echo(f"recording {seconds:g} s: speak now…")
        recording = await selftest.record(mic, seconds, meter.show)
        meter.done()
        _say_format("microphone", mic)
        typer.echo("playing the recording back…")
        played = await selftest.play(speaker, selftest.to_speaker_rate(recording))
        _say_format("speaker", speaker)
        return recording, played

    recording, played = asyncio.run(session())
    levels = verdict.measure(recording)
    clipping = f"{levels.clipped_samples} samples clipped" if levels.clipped_samples else "no clipping"
    typer.echo(
        f"recorded {levels.seconds:.1f} s: peak {levels.peak_dbfs:.1f} dBFS, RMS {levels.rms_dbfs:.1f} dBFS, "
        f"noise floor {levels.noise_floor_dbfs:.1f} dBFS, {clipping}"
    )
    if not played:
        typer.echo("speaker: playback did not finish (the device stopped delivering)")
    result = verdict.judge(levels)
    typer.echo(f"verdict: {result.text}")
    return result.ok and played


def _say_format(kind: str, stream) -> None:
    for notice in stream.pop_notices():
        typer.echo(f"{kind}: {notice}")
    if stream.last_format is not None:
        typer.echo(f"{kind}: opened at {stream.last_format}")


class _Meter:
    """A one-line level meter, redrawn in place; nothing when stdout is not a terminal."""

    WIDTH = 30
    FLOOR_DBFS = -60.0

    def __init__(self, out):
        self._out = out
        self._tty = out.isatty()

    def show(self, level_dbfs: float) -> None:
        if not self._tty:
            return
        filled = round(self.WIDTH * min(1.0, max(0.0, 1 - level_dbfs / self.FLOOR_DBFS)))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self._out.write(f"\r  [{bar}] {level_dbfs:6.1f} dBFS")
        self._out.flush()

    def done(self) -> None:
        if self._tty:
            self._out.write("\n")
            self._out.flush()


# -- livecli devices pick ----------------------------------------------------------------------


def run_pick(current: settings.Settings) -> None:
    from livecli.audio import devices
    from livecli.ui.chooser import Chooser, choose
    from livecli.ui.keys import KeyReader

    found = devices.list_devices()
    if not found:
        raise AudioError(f"PortAudio sees no audio devices; {devices.NOTHING_FOUND_HINT}")
    path = paths.config_file()
    chosen_names: dict[str, str | None] = {}
    with KeyReader() as keys:  # one reader for both questions: keys typed ahead are kept
        for direction, kind, key in DIRECTIONS:
            usable = [d for d in found if d.channels(direction) > 0]
            if not usable:
                raise AudioError(f"no {kind} found: PortAudio sees none; {devices.NOTHING_FOUND_HINT}")
            default = devices.default_index(direction)
            default_name = next((d.name for d in usable if d.index == default), "none")
            entries = [("d", f"system default ({default_name})")]
            entries += [(str(d.index), f"{d.name}  ({d.hostapi}, {d.channels(direction)} ch)") for d in usable]
            position = 0
            spec = getattr(current, key)
            if spec is not None:
                try:
                    position = 1 + usable.index(devices.match(spec, found, direction))
                except AudioError:
                    position = 0
            choice = choose(f"Choose the {kind}", Chooser(entries, position), keys)
            if choice is None:
                typer.echo("cancelled: nothing saved")
                return
            chosen_names[key] = None if choice == 0 else usable[choice - 1].name
    for key, name in chosen_names.items():
        settings.save_setting(path, key, name)
        typer.echo(config_file.toml_line(key, name) if name is not None else f"{key}: system default")
        if settings.ENV_PREFIX + key.upper() in os.environ:
            typer.echo(f"note: {settings.ENV_PREFIX + key.upper()} is set and overrides config.toml")
    typer.echo(f"saved in {path}")
