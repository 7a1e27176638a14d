"""What jicofo itself says about the bridges, from its REST API on 127.0.0.1:8888.

Only what the real jicofo serves there is read: ``/about/health`` and the bridge selector's
gauges in ``/metrics`` (``jitsi_jicofo_bridge_selector_*``). Both answer without credentials and
only on loopback.
"""

import urllib.error
import urllib.request

PORT = 8888
URL = "http://127.0.0.1:{}".format(PORT)
PREFIX = "jitsi_jicofo_bridge_selector_"


def _get(path, timeout):
    try:
        with urllib.request.urlopen(URL + path, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def health(timeout=2.0):
    """``(status, body)`` of jicofo's /about/health; OSError when jicofo does not answer."""
    return _get("/about/health", timeout)


def bridge_counts(timeout=2.0):
    """``{"bridge_count": n, "operational_bridge_count": n, "in_shutdown_bridge_count": n,
    "lost_bridges_total": n}`` from jicofo's /metrics; OSError when it does not answer."""
    from ..bridge_api import parse_metrics
    status, body = _get("/metrics", timeout)
    if status != 200:
        raise OSError("jicofo's /metrics answered HTTP {}".format(status))
    values = parse_metrics(body)
    return {name[len(PREFIX):]: int(value) for name, value in values.items() if name.startswith(PREFIX)}
