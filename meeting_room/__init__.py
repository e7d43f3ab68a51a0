"""The meeting-room application: settings, store, events, meeting state, API, CLI and web pages."""

__version__ = "0.1.0"
