"""The insights pages under ``/insights``, served by ``staffroom serve`` (aiohttp)."""

from bot.insights_web.http import InsightsDeps
from bot.insights_web.routes import add_routes

__all__ = ["InsightsDeps", "add_routes"]
