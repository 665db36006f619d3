"""Feedback links in reports: one per verdict, each carrying an unguessable token.

The token is an HMAC-SHA256 of the episode id and the label under a secret only the
server knows (metrics.yaml ``feedback.secret``, from the environment), so a link
records exactly the verdict it was made for and no other link can be forged.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from agent.feedback.labels import LABELS

__all__ = ["MIN_SECRET", "FeedbackSpec", "feedback_links", "token", "valid_token"]

MIN_SECRET = 16
"""Shortest secret accepted: shorter ones can be guessed."""


class FeedbackSpec(BaseModel):
    """metrics.yaml ``feedback:``: the local endpoint behind the reports' feedback links."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    serve: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=1, le=65535)
    base_url: str | None = None
    """How readers reach the endpoint (a proxy, a host name); default http://host:port."""
    secret: SecretStr | None = None

    @model_validator(mode="after")
    def _secret_when_served(self) -> FeedbackSpec:
        if self.serve and len(self.secret.get_secret_value() if self.secret else "") < MIN_SECRET:
            raise ValueError(
                f"feedback links need a secret of at least {MIN_SECRET} characters — set "
                "`secret: ${CX_AGENT_FEEDBACK_SECRET}` and export a long random value"
            )
        return self

    @property
    def url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


def token(secret: str, episode_id: str, label: str) -> str:
    message = f"{episode_id}\n{label}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def valid_token(secret: str, episode_id: str, label: str, given: str) -> bool:
    return hmac.compare_digest(token(secret, episode_id, label), given)


def feedback_links(spec: FeedbackSpec, episode_id: str) -> dict[str, str]:
    """Label → URL recording that verdict; empty when the endpoint is not served."""
    if not spec.serve or spec.secret is None:
        return {}
    secret = spec.secret.get_secret_value()
    return {label: f"{spec.url}/feedback?" + _query(secret, episode_id, label) for label in LABELS}


def _query(secret: str, episode_id: str, label: str) -> str:
    return urlencode(
        {"episode": episode_id, "label": label, "token": token(secret, episode_id, label)}
    )
