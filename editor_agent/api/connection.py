"""How to reach Claude: base URL, credential and auth header, endpoint path, headers, body fields.

Settings come, lowest precedence first, from the SDK's environment variables
(`ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`), a profile in a config file,
and command-line flags. The credential's value is never printed, logged or written: only the
name of the variable it came from and the header that carried it. Whatever the tool writes or
prints passes `redact`, which knows the value once `credential()` has handed it out.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..errors import ConnectionError_ as ConnectionError_  # the class lives in errors.py
from ..safety import redact

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_PATH = "/v1/messages"
CONFIG_ENV = "EDITOR_AGENT_CONFIG"

AuthStyle = Literal["bearer", "x-api-key"]
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password", re.IGNORECASE)


class Connection(BaseModel):
    """Everything about reaching a Messages API endpoint except the credential's value."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    auth: AuthStyle = "bearer"
    credential_env: str | None = Field(
        default=None, description="the environment variable holding the credential (default: the SDK's order)"
    )
    messages_path: str = DEFAULT_PATH
    anthropic_version: str | None = None
    headers: dict[str, str] = {}
    betas: list[str] = []
    body: dict[str, Any] = {}
    max_retries: int = Field(default=4, ge=0)
    timeout: float = Field(default=600.0, gt=0)
    api_key: SecretStr | None = Field(default=None, exclude=True, description="a credential given in code")

    @property
    def effective_base_url(self) -> str:
        return (self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")

    def credential(self) -> tuple[str, str]:
        """(variable name, value) of the credential to send, as the SDK would pick it; from now on the
        value is redacted from every output, and checks run without the variable."""
        if self.credential_env:
            redact.register_variable(self.credential_env)
        for header, shown in self.headers.items():  # a gateway's own credential header, given with --header
            if _SECRET_HEADER.search(header):
                redact.register(shown.removeprefix("Bearer ").strip())
        if self.api_key is not None:
            redact.register(self.api_key.get_secret_value())
            return "the api_key setting", self.api_key.get_secret_value()
        names = [self.credential_env] if self.credential_env else ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
        for name in names:
            value = os.environ.get(name)
            if value:
                redact.register(value)
                return name, value
        wanted = " or ".join(names)
        raise ConnectionError_(f"no credential: set {wanted} (or run `editor-agent demo`, which needs none)")

    def header_name(self) -> str:
        return "x-api-key" if self.auth == "x-api-key" else "Authorization: Bearer"

    def describe_credential(self) -> str:
        """Where the credential came from and how it is sent, without its value."""
        try:
            name, _ = self.credential()
        except ConnectionError_:
            name = self.credential_env or "ANTHROPIC_API_KEY"
        source = name if name == "the api_key setting" else f"the credential from {name}"
        return f"{source}, sent as `{self.header_name()}`, to {self.effective_base_url}"


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profiles: dict[str, Connection] = {}


def load_profile(name: str | None, path: str | None = None) -> Connection:
    """The named profile from the config file (`--config`, or $EDITOR_AGENT_CONFIG), or defaults."""
    path = path or os.environ.get(CONFIG_ENV)
    if path is None:
        if name:
            raise ConnectionError_(f"profile '{name}' asked for, but no config file: pass --config or set {CONFIG_ENV}")
        return Connection()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        config = ConfigFile.model_validate(raw)
    except OSError as exc:
        raise ConnectionError_(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConnectionError_(f"config file {path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConnectionError_(f"config file {path}: {where}: {first['msg']}") from None
    if name is None:
        return Connection()
    if name not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise ConnectionError_(f"config file {path} has no profile '{name}' (profiles: {known})")
    return config.profiles[name]
