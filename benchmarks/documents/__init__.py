"""``make bench-documents``: extraction speed and the mixed run (issue 14)."""
