"""Follow-through: *I'll try this*, check-ins, reflections, the adopter network.

Session-first use-cases over ``store`` (tables in ``store/follow_models.py``); the bot sends
what the schedule (``follow_messages``) says is due through the one delivery pipeline.
"""
