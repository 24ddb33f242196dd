"""Turn an API failure into one line a person can act on (never a traceback, never a credential)."""

from __future__ import annotations

import anthropic

from .connection import Connection


def _api_message(error: anthropic.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    return str(error.message)


def describe_api_error(
    error: Exception, *, connection: Connection, model: str, family: str = "", tool_type: str = ""
) -> str:
    """One line for a person: what failed, what was sent where, and what to change."""
    base = connection.effective_base_url
    if isinstance(error, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        status = "401 unauthorized" if isinstance(error, anthropic.AuthenticationError) else "403 forbidden"
        other = "bearer" if connection.auth == "x-api-key" else "x-api-key"
        return (
            f"{status}: {base} rejected {connection.describe_credential()}: {_api_message(error)}. "
            f"Check the credential, or try --auth {other} if this gateway expects that header"
        )
    if isinstance(error, anthropic.NotFoundError):
        return (
            f"404 not found: {base} does not know the model '{model}' or the endpoint "
            f"{connection.messages_path}: {_api_message(error)}"
        )
    if isinstance(error, anthropic.BadRequestError):
        message = _api_message(error)
        if "does not support tool types" in message:
            return (
                f"400 bad request: {message} editor-agent picked {tool_type} for the model family '{family}' "
                "from tools.yaml; fix the rule there, or pass --tool with a version the model takes"
            )
        return f"400 bad request: the API rejected the request: {message}"
    if isinstance(error, anthropic.RateLimitError):
        return f"429 rate limited by {base} after {connection.max_retries} retries: {_api_message(error)}"
    if isinstance(error, anthropic.APIStatusError):
        return (
            f"{error.status_code} from {base} after {connection.max_retries} retries: {_api_message(error)}"
            if error.status_code >= 500
            else f"{error.status_code} from {base}: {_api_message(error)}"
        )
    if isinstance(error, anthropic.APITimeoutError):
        return f"timed out waiting for {base} (after {connection.max_retries} retries)"
    if isinstance(error, anthropic.APIConnectionError):
        cause = error.__cause__ or error
        return f"could not reach {base}: {type(cause).__name__}: {cause}"
    return f"{type(error).__name__}: {error}"
