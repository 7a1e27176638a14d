"""`scripts/lab`: a thin command line over harness.Lab."""

import argparse
import os
import subprocess
import sys
import time

from .lab import DEFAULT_RELEASE, NET, RELEASES, Lab, LabError, log, REPO_ROOT


def demo_build(lab, ctx):
    if not os.path.exists(os.path.join(REPO_ROOT, "scripts", "build-deb")):
        log("demo: scripts/build-deb does not exist yet: no jvb-join .deb is built")
        return
    log("demo: make deb")
    if subprocess.call(["make", "-C", REPO_ROOT, "deb"]) != 0:
        raise LabError("make deb failed")


def demo_up(lab, ctx):
    lab.prepare()
    lab.up(*ctx["hosts"])


def demo_install(lab, ctx):
    for host in ctx["hosts"]:
        lab.exec(host, ["apt-get", "update", "-q"], check=True)
        rc, out, err = lab.exec(host, ["apt-get", "install", "-y", "-q", "jvb-join"],
                                env={"DEBIAN_FRONTEND": "noninteractive"})
        if rc != 0:
            ctx["stop"] = "apt install jvb-join failed on %s: %s" % (host, err.strip()[-400:])
            return
        log("demo: %s: jvb-join installed" % host)


def _show(lab, host, argv, input=None, secret=False):
    """Run argv in host and show it; a secret output (a token) is shown by its length only."""
    print("\n$ [%s] %s" % (host, " ".join(argv)))
    rc, out, err = lab.exec(host, argv, input=input, timeout=1200)
    if secret and rc == 0:
        sys.stdout.write("(a join token, %d characters: not shown, handed to the bridge on stdin)\n"
                         % len(out.strip()))
    else:
        sys.stdout.write(out)
    sys.stdout.write(err)
    sys.stdout.flush()
    return rc, out


def _repo_args(lab):
    _, url, _ = lab.exec("jms", ["cat", "/root/lab/jitsi-repo.url"], check=True)
    return ["--jitsi-repo-url", url.strip(), "--jitsi-repo-key", "/root/lab/jitsi-repo.gpg"]


def _brewery_lines(lab):
    _, out, _ = lab.exec("jms", ["grep", "-E", "(Added|Removed) brewery instance|Lost a bridge",
                                 "/var/log/jitsi/jicofo.log"])
    return out


def demo_server(lab, ctx):
    rc, _ = _show(lab, "jms", ["jvb-join", "server", "install", "--domain", "meet.lab.test"] + _repo_args(lab))
    if rc != 0:
        ctx["stop"] = "jvb-join server install failed on jms (exit %d)" % rc


def demo_join(lab, ctx):
    for host in ("jvb1", "jvb2"):
        rc, token = _show(lab, "jms", ["jvb-join", "token", "create", "--name", host, "--host", "meet.lab.test",
                                       "--allow-from", lab.ip(host)], secret=True)
        if rc != 0:
            ctx["stop"] = "token create failed (exit %d)" % rc
            return
        # The token goes on stdin: a command line is visible to every user of the host.
        rc, _ = _show(lab, host, ["jvb-join", "--token-file", "-"] + _repo_args(lab), input=token)
        if rc not in (0, 2):
            ctx["stop"] = "the join of %s failed (exit %d)" % (host, rc)
            return


def demo_fleet(lab, ctx):
    _show(lab, "jms", ["jvb-join", "token", "list"])
    _show(lab, "jms", ["jvb-join", "bridges"])
    for host in ("jms", "jvb1", "jvb2"):
        _show(lab, host, ["jvb-join", "doctor"])
    _show(lab, "jvb1", ["jvb-join", "status"])
    print("\njicofo.log on jms, the bridges joining:\n" + _brewery_lines(lab))


def demo_failover(lab, ctx):
    print("stopping jvb1 (poweroff); jicofo removes it and keeps jvb2")
    lab.stop("jvb1")
    deadline = time.time() + 30
    while time.time() < deadline and "Removed brewery instance" not in _brewery_lines(lab):
        time.sleep(1)
    print("\njicofo.log on jms after jvb1 stopped:\n" + _brewery_lines(lab))
    _show(lab, "jms", ["jvb-join", "bridges"])


# Others extend the demo by appending steps: each is f(lab, ctx); set ctx["stop"] to end early.
DEMO_STEPS = [demo_build, demo_up, demo_install, demo_server, demo_join, demo_fleet, demo_failover]


def demo(lab):
    ctx = {"hosts": ["jms", "jvb1", "jvb2"], "stop": None}
    t0 = time.time()
    try:
        for step in DEMO_STEPS:
            step(lab, ctx)
            if ctx["stop"]:
                break
    finally:
        lab.down()
    print("demo: %s (%.0f s)" % (ctx["stop"] or "all steps done", time.time() - t0))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/lab", description="the jvb-join lab: Debian "
                                 "containers on %s.0/24 with offline signed apt repositories" % NET)
    sub = ap.add_subparsers(dest="cmd")
    p = sub.add_parser("image", help="build (once, cached) base image, lab mirror and repositories")
    p.add_argument("--release", choices=RELEASES, default=DEFAULT_RELEASE)
    p = sub.add_parser("repo", help="repo refresh: rebuild the jvb-join and jitsi repositories")
    p.add_argument("action", choices=["refresh"])
    p = sub.add_parser("up", help="boot bare hosts")
    p.add_argument("--release", choices=RELEASES, default=DEFAULT_RELEASE)
    p.add_argument("hosts", nargs="+")
    p = sub.add_parser("exec", help="run a command inside a host: exec HOST -- CMD...")
    p.add_argument("host")
    p.add_argument("command", nargs=argparse.REMAINDER)
    for name in ("ip", "logs", "stop", "start"):
        p = sub.add_parser(name)
        p.add_argument("host")
    p = sub.add_parser("evidence", help="save a host's journal, logs, configs into DIR")
    p.add_argument("host")
    p.add_argument("dir")
    sub.add_parser("ls", help="lab hosts, their addresses and releases")
    sub.add_parser("down", help="stop and remove everything the lab started")
    sub.add_parser("demo", help="build, boot jms jvb1 jvb2, install jvb-join, tear down")
    a = ap.parse_args(argv)
    if not a.cmd:
        ap.print_help()
        return 64
    if os.geteuid() != 0:
        sys.stderr.write("scripts/lab: must run as root\n")
        return 77
    lab = Lab()
    try:
        if a.cmd == "image":
            lab.prepare([a.release])
        elif a.cmd == "repo":
            lab.refresh_repos()
        elif a.cmd == "up":
            lab.up(*a.hosts, release=a.release)
        elif a.cmd == "exec":
            cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
            if not cmd:
                ap.error("exec HOST -- CMD...")
            return lab.exec(a.host, cmd, capture=False)[0]
        elif a.cmd == "ip":
            print(lab.ip(a.host))
        elif a.cmd == "ls":
            for name, h in sorted(lab.hosts().items(), key=lambda kv: int(kv[1]["ip"].split(".")[-1])):
                print("%-12s %-14s %-9s %s" % (name, h["ip"], h["release"],
                                               "running" if h["running"] else "stopped"))
        elif a.cmd == "logs":
            sys.stdout.write(lab.logs(a.host))
        elif a.cmd == "evidence":
            print(lab.evidence(a.host, a.dir))
        elif a.cmd == "stop":
            lab.stop(a.host)
        elif a.cmd == "start":
            lab.start(a.host)
        elif a.cmd == "down":
            lab.down()
        elif a.cmd == "demo":
            return demo(lab)
    except LabError as e:
        sys.stderr.write("scripts/lab: %s\n" % e)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
