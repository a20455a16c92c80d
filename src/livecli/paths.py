"""Where livecli keeps its files (platformdirs: honours XDG_* on Linux)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "livecli"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def key_file() -> Path:
    return config_dir() / "api_key"
