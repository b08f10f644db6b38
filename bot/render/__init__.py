"""Pure renderers from the neutral message model to each platform's format."""
