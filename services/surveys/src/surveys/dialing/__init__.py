"""The outbound dialer's decisions, pure: who may be called now, and how many calls fit."""
