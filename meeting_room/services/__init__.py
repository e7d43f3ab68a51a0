"""Commands: each checks permissions and state inside the store's transaction, then appends one event."""
