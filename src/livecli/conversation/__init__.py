"""The conversation core (`core.Conversation`), what it takes (`inputs`) and what it asks for (`effects`)."""

from livecli.conversation.core import Conversation

__all__ = ["Conversation"]
