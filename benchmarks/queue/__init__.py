"""Router queue claims per second vs procrastinate: ``python -m benchmarks.queue.run``."""
