"""nginx serves the bridges' repository (jvbjoin.server.repo) at ``http://DOMAIN/jvb-join/debian/``.

jvb-join owns ``/etc/nginx/jvb-join-repo.conf``: one ``location ^~`` (so no regex location of the
site takes its paths) that serves that folder and nothing else, with no listing. The meet domain's
site gets one marked ``include`` line in its port 80 server, whose other locations send everything
to https. Plain http on purpose: a bridge trusts the key by the hash in its join line and the
packages by the key's signature, and a fresh host does not trust a self-signed certificate yet.
``nginx -t`` runs before any reload; a configuration it refuses puts every file back.
"""

import re

from jvbjoin.errors import StepError
from jvbjoin.system import files
from jvbjoin.steps.base import WantedFile
from jvbjoin.server.colibri_ws import server_block, site_path
from jvbjoin.server.nginx import NginxFiles
from jvbjoin.server.repo import URL_PATH, WEB_ROOT

LOCATION_FILE = "/etc/nginx/jvb-join-repo.conf"
INCLUDE_LINE = "include {};  # added by jvb-join: its bridges' package repository".format(LOCATION_FILE)


def location_text():
    return ("# Written by jvb-join: the signed apt repository of the jvb-join this server runs, for its\n"
            "# bridges (jvb-join token create --print-join-command). Only that folder, no listing.\n"
            "location ^~ {path}/ {{\n"
            "    alias {root}/debian/;\n"
            "    autoindex off;\n"
            "    default_type application/octet-stream;\n"
            "}}\n").format(path=URL_PATH, root=WEB_ROOT)


def add_include(text):
    """The site with the include line in its port 80 server; every other byte as it was."""
    if any(line.strip() == INCLUDE_LINE for line in text.splitlines()):
        return text
    lines = text.splitlines(True)
    found = server_block(lines, 80)
    if found is None:
        raise StepError("The site has no server block that listens on port 80.",
                        "Check the meet domain's nginx site (nginx -t); the bridges' repository is served "
                        "over http on port 80.")
    closing = found[1]
    ending = "\r\n" if lines[closing].endswith("\r\n") else "\n"
    lines.insert(closing, "    " + INCLUDE_LINE + ending)
    return "".join(lines)


def remove_include(text):
    return "".join(line for line in text.splitlines(True) if line.strip() != INCLUDE_LINE)


def served(paths, domain):
    """Does the site include the repository's location?"""
    text = files.read_text(site_path(paths, domain)) or ""
    return any(line.strip() == INCLUDE_LINE for line in text.splitlines()) and \
        re.search(r"location \^~ " + re.escape(URL_PATH), files.read_text(paths(LOCATION_FILE)) or "") is not None


class RepositorySite(NginxFiles):
    """The location file and the site's include line, ``nginx -t``, then a reload."""

    name = "bridge-repository-web"
    what = "the bridges' repository"
    title = "nginx location of the bridges' repository"
    no_inverse = "the repository stays published"

    def __init__(self, domain):
        self.domain = domain

    def wanted(self, ctx):
        site = site_path(ctx.paths, self.domain)
        text = files.read_text(site)
        if text is None:
            if ctx.run.dry_run:  # the Jitsi packages, not installed yet, make the site
                return [WantedFile(ctx.paths(LOCATION_FILE), location_text(), 0o644)]
            raise StepError("{} does not exist.".format(site),
                            "The bridges' repository is served by the nginx site of jitsi-meet-web-config.")
        return [WantedFile(ctx.paths(LOCATION_FILE), location_text(), 0o644), WantedFile(site, add_include(text))]
