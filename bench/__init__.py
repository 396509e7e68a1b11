"""Benchmarks of the platform side by side with their baselines (`make bench`).

- intake: `POST /v1/calls` of the intake service against a bare FastAPI endpoint (`bare_app`).
- producer: our `EventProducer` against Kafka's own `ProducerPerformance` tool.

`python -m bench` runs both, prints a table and writes `docs/benchmarks.md`.
"""
