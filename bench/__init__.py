"""Benchmarks of the platform side by side with their baselines (`make bench`).

- intake: `POST /v1/calls` of the intake service against a bare FastAPI endpoint (`bare_app`).
- producer: our `EventProducer` against Kafka's own `ProducerPerformance` tool.
- privacy: the cost of sealing personal data, publishing (seal + publish) and replaying
  (decode + reveal) against the same without personal data.

`python -m bench` runs them all, prints a table and writes `docs/benchmarks.md`.
"""
