"""The Microsoft Teams front-end; everything botbuilder-specific lives in this package."""
