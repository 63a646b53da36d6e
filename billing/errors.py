"""Domain errors of billing; views map them to 400 / 409 with the message shown."""

from webinars.errors import DomainError, TransientError


class BillingError(DomainError):
    """A billing rule was broken (`code` names it); `http_status` says how to answer."""

    def __init__(self, code: str, message: str, *, http_status: int = 409) -> None:
        self.code = code
        self.message = message
        self._http_status = http_status
        super().__init__(message)

    @property
    def http_status(self) -> int:
        return self._http_status


class GatewayError(BillingError):
    """Stripe (or the emulator) refused the request or could not be reached."""

    def __init__(self, message: str) -> None:
        super().__init__("gateway", message, http_status=502)


class GatewayUnavailable(GatewayError, TransientError):
    """Stripe could not be reached, or rate-limited us: tasks retry it with backoff."""
