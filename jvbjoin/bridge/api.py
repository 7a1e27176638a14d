"""The bridge's private REST API on 127.0.0.1:8080: health, version, metrics, drain, shutdown, debug state."""

import json
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8080"


class BridgeAPI:
    def __init__(self, url=DEFAULT_URL, timeout=2.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _request(self, path, method="GET", body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace")

    def health(self):
        """``(healthy, message)``; (False, reason) when the API does not answer at all."""
        try:
            status, body = self._request("/about/health")
        except (OSError, ValueError) as exc:
            return False, "the bridge's REST API does not answer ({})".format(getattr(exc, "reason", exc))
        return status == 200, body.strip() or "HTTP {}".format(status)

    def version(self):
        status, body = self._request("/about/version")
        return json.loads(body) if status == 200 else None

    def metrics(self):
        """Prometheus text parsed into ``{name: value}`` (labels dropped; last sample wins)."""
        status, body = self._request("/metrics")
        if status != 200:
            return {}
        return parse_metrics(body)

    def metrics_or_raise(self):
        """Like metrics(), but OSError when the REST API does not answer or has no metrics."""
        status, body = self._request("/metrics")
        if status != 200:
            raise OSError("GET /metrics answered HTTP {}".format(status))
        return parse_metrics(body)

    def drain(self, enable=True):
        status, body = self._request("/colibri/drain/{}".format("enable" if enable else "disable"), "POST")
        return status == 200

    def shutdown(self, graceful=True):
        """Ask the bridge to shut down (POST /colibri/shutdown); True if it accepted.

        The bridge then announces graceful shutdown / SHUTTING_DOWN in its brewery presence, so
        jicofo moves its conferences and logs a shutdown rather than a lost bridge, and it exits by
        itself after ``videobridge.shutdown.shutting-down-delay``. The endpoint exists only with
        ``videobridge.apis.rest.enabled`` and ``videobridge.rest.shutdown.enabled`` (jvb-join's
        fragment sets both); otherwise the answer is 404 and this returns False.
        """
        status, body = self._request("/colibri/shutdown", "POST",
                                     {"graceful-shutdown": "true" if graceful else "false"})
        return status == 200

    def participants(self):
        """Participants on the bridge now (the jitsi_jvb_participants gauge), or None without an answer."""
        try:
            values = self.metrics()
        except (OSError, ValueError):
            return None
        value = values.get("jitsi_jvb_participants")
        return None if value is None else int(value)

    def debug_state(self, conference=None, full=False):
        """The bridge's debug state (GET /debug, SHORT unless ``full``; /debug/<conference id>, FULL
        unless not ``full``), or None when the debug API is off (videobridge.rest.debug.enabled).
        Raises OSError when the REST API does not answer, ValueError for an answer that is not JSON."""
        path = "/debug" if conference is None else "/debug/" + urllib.parse.quote(conference, safe="")
        if full != (conference is not None):
            path += "?full=" + ("true" if full else "false")
        status, body = self._request(path)
        if status == 404:
            return None
        if status != 200:
            raise OSError("GET {} answered HTTP {}".format(path, status))
        return json.loads(body)

    def drain_state(self):
        status, body = self._request("/colibri/drain")
        return json.loads(body).get("drain") if status == 200 else None


def parse_metrics(text):
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_part, _, value = line.rpartition(" ")
        name = name_part.split("{", 1)[0].strip()
        try:
            values[name] = float(value)
        except ValueError:
            continue
    return values
