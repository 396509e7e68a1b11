"""A discrete-event simulation of the call center, driving the real routing engine."""
