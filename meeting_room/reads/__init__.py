"""Read models beyond the store's own tables: the transcript queries (lines, speakers, which agenda
item was open at a time), speaking statistics and the archive's search index."""
