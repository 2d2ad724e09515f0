"""Sign-in lock-out (django-axes) by the real client address, behind any number of proxies.

**The client address.** Behind the TLS-terminating proxy (or load balancer) that README's
Deployment section asks for, REMOTE_ADDR is the nearest proxy for everyone. Each proxy appends
the address it received the request from to X-Forwarded-For, so with ``TRUSTED_PROXY_COUNT``
proxies in front of the app the client is the entry that many places from the right: the first
proxy wrote it. Anything to its left came from the client and is never trusted. A request whose
header has fewer entries than that, or an entry that is not an IP address, did not come through
the proxies as configured: it is keyed on REMOTE_ADDR, the one address nobody can forge.

**The limits.** django-axes counts failures for each lock-out parameter but compares them all
with one AXES_FAILURE_LIMIT, and a successful sign-in clears every parameter's failures, so
adding a bare "ip_address" parameter would lock a whole office network after five typos and let
anyone with an account there wipe a colleague's count by signing in. Instead the lock-out
parameter stays the username and address pair (AXES_FAILURE_LIMIT, reset by a successful
sign-in), and this handler adds a per-address limit across usernames
(AXES_ADDRESS_FAILURE_LIMIT, higher), which only expires with the cool-off.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.db.models import Sum
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address the request came from, trusting exactly TRUSTED_PROXY_COUNT proxies."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count].strip()))
    except ValueError:
        return remote


class PairAndAddressLockoutHandler(AxesDatabaseHandler):
    """Locks a username from one address after AXES_FAILURE_LIMIT failures, and an address for
    every username after AXES_ADDRESS_FAILURE_LIMIT failures, each for AXES_COOLOFF_TIME."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if self.address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures

    @staticmethod
    def address_failures(request) -> int:
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        recent = AccessAttempt.objects.filter(
            ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
        )
        return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0
