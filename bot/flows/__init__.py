"""Conversation flows on the neutral message model; each front-end gets every flow."""
