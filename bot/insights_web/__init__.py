"""The insights pages under ``/insights``, served by ``staffroom serve`` (aiohttp)."""

from bot.insights_web.routes import InsightsDeps, add_routes

__all__ = ["InsightsDeps", "add_routes"]
