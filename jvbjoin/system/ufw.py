"""ufw's state as jvb-join reads it: the rules it keeps in ``user.rules``/``user6.rules`` (also while
it is off), the enabled flag in ``ufw.conf``, the output of ``ufw status``; and the command lines
that add and take back an allow rule.

The one reader of ufw for the join, leave, doctor and the server. Running ufw stays with the steps
that change it.
"""

import re

from jvbjoin.system import files

CONF = "/etc/ufw/ufw.conf"
RULE_FILES = ("/etc/ufw/user.rules", "/etc/ufw/user6.rules")

_ANY = ("0.0.0.0/0", "::/0", "any")
_TUPLE = "### tuple ###"
_STATUS_RULE = re.compile(r"^(?P<to>\S+)(?: \(v6\))?\s+(?P<action>ALLOW|LIMIT|DENY|REJECT)(?: (?P<dir>IN|OUT|FWD))?\s+"
                          r"(?P<src>.+?)\s*(?:#.*)?$")
_ENABLED = re.compile(r"^\s*ENABLED\s*=\s*yes\s*$", re.MULTILINE | re.IGNORECASE)


# --- ufw status --------------------------------------------------------------------------------

def parse_status(text):
    """``(active, rules)`` from ``ufw status [verbose]``; rules are ``(action, proto, ports, from_any)``."""
    active = False
    rules = []
    in_table = False
    for line in text.splitlines():
        if line.startswith("Status:"):
            active = line.split(":", 1)[1].strip() == "active"
            continue
        if line.startswith("--"):
            in_table = True
            continue
        if not in_table or not line.strip():
            continue
        match = _STATUS_RULE.match(line.rstrip())
        if not match or (match.group("dir") or "IN") != "IN":
            continue
        port, _, proto = match.group("to").partition("/")
        src = match.group("src").replace("(v6)", "").strip()
        rules.append((match.group("action").lower(), proto or "any", port, src == "Anywhere"))
    return active, rules


def status_active(text):
    """Whether a ``ufw status`` output says ufw is on."""
    return parse_status(text)[0]


def status_lists(text, port, proto):
    """Whether a ``ufw status`` output lists an incoming rule for exactly ``port/proto``."""
    return any(ports == str(port) and rule_proto == proto for _, rule_proto, ports, _ in parse_status(text)[1])


# --- user.rules ----------------------------------------------------------------------------------

def incoming_tuples(text):
    """The fields (action, proto, dport, dst, sport, src, ..., direction) of the incoming rules of a
    ``user.rules`` text (its ``### tuple ###`` lines), comments left out."""
    for line in text.splitlines():
        if not line.startswith(_TUPLE):
            continue
        fields = [f for f in line[len(_TUPLE):].split() if not f.startswith("comment=")]
        if len(fields) >= 7 and fields[-1] == "in":
            yield fields


def parse_user_rules(text):
    """Rules ``(action, proto, ports, from_any)`` from a ``user.rules`` text (kept even when ufw is
    inactive, when ``ufw status`` shows none)."""
    return [(f[0].split("_")[0], f[1], f[2], f[5] in _ANY) for f in incoming_tuples(text)]


def rule_sources(text):
    """``[(action, proto, port, source)]`` of the incoming rules of a ``user.rules`` text."""
    return [(f[0].split("_")[0], f[1], f[2], f[5]) for f in incoming_tuples(text)]


def commented_tuples(text, comment):
    """The fields of the incoming allow rules in a ``user.rules`` text that carry ``comment`` (ufw
    keeps comments hex-encoded there)."""
    wanted = "comment=" + comment.encode("utf-8").hex()
    for line in text.splitlines():
        if not line.startswith(_TUPLE) or wanted not in line.split():
            continue
        fields = [f for f in line[len(_TUPLE):].split() if not f.startswith("comment=")]
        if len(fields) >= 7 and fields[0] == "allow" and fields[-1] == "in":
            yield fields


def commented_rules(text, comment):
    """``[(port, proto)]`` of the incoming allow rules in a ``user.rules`` text that carry
    ``comment``: the ports jvb-join opened itself."""
    found = []
    for fields in commented_tuples(text, comment):
        if (fields[2], fields[1]) not in found:
            found.append((fields[2], fields[1]))
    return found


def rule_texts(paths):
    """The texts of ufw's rule files ("" for one that is missing or cannot be read)."""
    texts = []
    for name in RULE_FILES:
        try:
            texts.append(files.read_text(paths(name)) or "")
        except OSError:
            texts.append("")
    return texts


def saved_rules(paths):
    """The rules in ufw's rule files, IPv4 and IPv6."""
    rules = []
    for text in rule_texts(paths):
        rules.extend(parse_user_rules(text))
    return rules


def saved(paths):
    """``(installed, enabled, rules)`` from ufw's own files, without running ufw."""
    conf = files.read_text(paths(CONF))
    if conf is None:
        return False, False, []
    return True, conf_enabled(conf), saved_rules(paths)


def conf_enabled(text):
    """Whether a ``ufw.conf`` text turns ufw on at boot (``ENABLED=yes``)."""
    return bool(text and _ENABLED.search(text))


# --- rules ---------------------------------------------------------------------------------------

def port_in(port, spec):
    """Whether ``port`` is in a ufw port spec (``80``, ``80,443``, ``10000:20000``)."""
    for part in spec.split(","):
        if ":" in part:
            low, _, high = part.partition(":")
            if low.isdigit() and high.isdigit() and int(low) <= port <= int(high):
                return True
        elif part.isdigit() and int(part) == port:
            return True
    return False


def allowed(rules, port, proto, from_anywhere=False):
    """Is ``port/proto`` already let in by some rule (allow or limit)?"""
    for action, rule_proto, ports, from_any in rules:
        if action not in ("allow", "limit"):
            continue
        if rule_proto not in ("any", proto):
            continue
        if from_anywhere and not from_any:
            continue
        if port_in(port, ports):
            return True
    return False


def allow_argv(port, proto, comment):
    """``ufw allow PORT/PROTO comment COMMENT``."""
    return ["ufw", "allow", "{}/{}".format(port, proto), "comment", comment]


def delete_argv(port, proto):
    """The undo of :func:`allow_argv`."""
    return ["ufw", "delete", "allow", "{}/{}".format(port, proto)]
