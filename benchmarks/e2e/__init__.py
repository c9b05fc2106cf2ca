"""`make bench`: the end-to-end benchmark of the whole local stack."""
