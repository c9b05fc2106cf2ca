"""The classifier model, as serving loads it: artifact, features, confidence gate, predictor."""
