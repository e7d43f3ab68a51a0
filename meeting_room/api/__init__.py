"""The HTTP and WebSocket API (FastAPI)."""

from meeting_room.api.app import create_app, create_app_for

__all__ = ["create_app", "create_app_for"]
