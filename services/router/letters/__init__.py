"""Letters: acknowledgements for intake systems and standard letters drafted by agents."""
