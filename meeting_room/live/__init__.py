"""Live work: what runs while the server runs (rooms, live captions, calls, transcription passes,
the poll timer) and the one runtime object that starts and stops it all."""
