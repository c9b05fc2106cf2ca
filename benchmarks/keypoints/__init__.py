"""Key points benchmark: recall@5 against caseworkers' essential sentences, and speed."""
