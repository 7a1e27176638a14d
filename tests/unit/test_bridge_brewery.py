"""The wait for a bridge in the breweries of the servers it serves: done when it is in each one;
a server where it is not by the deadline (or that cannot be asked) is named as degraded."""

import time

from jvbjoin.errors import JvbJoinError
from jvbjoin.engine.core import Context
from jvbjoin.bridge import brewery


class Server:
    def __init__(self, name, answers, password="pw"):
        self.name, self.answers, self.password = name, list(answers), password
        self.record = {"muc": "jvbbrewery@internal.auth." + name}

    def occupants(self):
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_the_wait_ends_when_the_bridge_is_in_every_brewery(paths):
    ctx = Context(paths)
    servers = [Server("a", [set(), {"jvb-x"}]), Server("b", [{"jvb-x"}])]
    assert brewery.wait_in(servers, "jvb-x", time.monotonic() + 5, ctx, poll=0.01) is True
    assert ctx.degraded == []


def test_a_server_without_the_bridge_or_unreachable_is_named_when_the_time_is_up(paths):
    ctx = Context(paths)
    servers = [Server("a", [{"another"}]), Server("b", [JvbJoinError("b does not answer")]),
               Server("c", [{"jvb-x"}], password=None)]
    assert brewery.wait_in(servers, "jvb-x", time.monotonic() + 0.05, ctx, poll=0.01) is False
    assert len(ctx.degraded) == 3
    assert "brewery of a (not in its brewery jvbbrewery@internal.auth.a)" in ctx.degraded[0]
    assert "b does not answer" in ctx.degraded[1] and "no password" in ctx.degraded[2]
