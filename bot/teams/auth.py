"""Bot Framework authentication: who may post activities to us, and how we post back.
``BotConfig`` is what botbuilder's configuration-driven authentication reads, built from
``Settings``; with no app id and no password it runs in the no-auth local mode the Bot Framework
Emulator uses. Every failure to authenticate a request (no header, a token that is not a JWT, a
bad signature) is a ``PermissionError``: the front-end answers 401 before anything runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotConfig:
    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TENANTID: str = ""
    APP_TYPE: str = "MultiTenant"
    # A private Bot Framework cloud (tests: a local key server); None = the public cloud.
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None

    @classmethod
    def from_settings(cls, s: Settings) -> BotConfig:
        return cls(s.microsoft_app_id, s.microsoft_app_password, s.microsoft_app_tenant_id,
                   s.microsoft_app_type)  # fmt: skip

    @property
    def local(self) -> bool:
        """True in the no-auth local mode (no app id)."""
        return not self.APP_ID


def authentication(config: BotConfig) -> BotFrameworkAuthentication:
    return StrictAuthentication(config)


class StrictAuthentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's authentication; every failure to authenticate is a ``PermissionError``."""

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        try:
            return await super().authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except Exception as err:  # jwt decode errors, key fetch failures, ...
            log.info("rejected a Teams request: %s: %s", type(err).__name__, err)
            raise PermissionError("the request could not be authenticated") from err

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise PermissionError("streaming connections are not served")
