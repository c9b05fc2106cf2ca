"""The model's life in production: human labels, retraining, the promotion gate, rollback."""
