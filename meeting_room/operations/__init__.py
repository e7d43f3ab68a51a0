"""Running the server safely: the data directory's permissions, health and disk checks, integrity of
the archive, backups and restores, and the server's own HTTPS certificates."""
