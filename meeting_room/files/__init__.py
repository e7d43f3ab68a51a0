"""Files kept by content under the data directory: the one content-addressed store (``file_store``)
and what it holds: meeting documents, recordings, the signed minutes' PDFs."""
