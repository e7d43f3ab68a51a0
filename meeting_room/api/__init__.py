"""The HTTP and WebSocket API (FastAPI)."""

from meeting_room.api.app import create_app

__all__ = ["create_app"]
