"""The analytics projections, one module each; `analytics.registry` lists those that run."""
