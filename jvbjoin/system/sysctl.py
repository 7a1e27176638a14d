"""Kernel settings: what the running kernel has (/proc/sys) and what a sysctl.d file asks for."""

from jvbjoin.system import files


def parse_sysctl_conf(text):
    """``{key: value}`` from a sysctl.d file (``key = value``, ``#``/``;`` comments)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip().lstrip("-")] = " ".join(value.split())
    return out


def proc_value(paths, key):
    """The kernel's value of ``key`` (``vm.swappiness``), white space made single; None when unreadable."""
    try:
        return " ".join((files.read_text(paths("/proc/sys", key.replace(".", "/"))) or "").split()) or None
    except (OSError, TypeError):
        return None
