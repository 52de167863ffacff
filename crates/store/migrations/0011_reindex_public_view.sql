-- What the search index stores of an entry is now its public view (the grading is internal:
-- docs/decisions/0009). Every entry is renumbered past the current change sequence, so every
-- node's index takes each entry again, as the public may see it.
UPDATE datasets SET change_seq = change_seq + (SELECT value FROM counters WHERE name = 'dataset_change');
UPDATE counters SET value = value * 2 WHERE name = 'dataset_change';
