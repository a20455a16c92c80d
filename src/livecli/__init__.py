"""livecli: talk to Gemini Live from your terminal."""

__version__ = "0.1.0"
