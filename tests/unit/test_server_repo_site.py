"""nginx serves the bridges' repository: one location file jvb-join owns, one marked include line
in the site's port 80 server, nginx -t before a reload, everything put back when it refuses."""

import os

import pytest

from jvbjoin.engine.core import Context, Engine
from jvbjoin.engine.run import Run
from jvbjoin.errors import StepError
from jvbjoin.system import files, systemd
from jvbjoin.system.run import Result
from jvbjoin.server import nginx as nginx_files, repo_site
from jvbjoin.server.colibri_ws import site_path

HERE = os.path.dirname(os.path.abspath(__file__))
SITE_TEMPLATE = os.path.join(HERE, "..", "lab", "standins", "jitsi-meet-web-config", "usr", "share",
                             "jitsi-meet-web-config", "jitsi-meet.example")
DOMAIN = "meet.example.com"


def site_text():
    with open(SITE_TEMPLATE) as f:
        return f.read().replace("jitsi-meet.example.com", DOMAIN)


def test_the_include_goes_into_the_port_80_server_only_and_comes_out_whole():
    site = site_text()
    added = repo_site.add_include(site)
    lines = added.splitlines()
    at = [i for i, line in enumerate(lines) if line.strip() == repo_site.INCLUDE_LINE]
    assert len(at) == 1
    server80 = max(i for i, line in enumerate(lines[:at[0]]) if line.startswith("server {"))
    assert "listen 80;" in lines[server80 + 1] and lines[at[0] + 1] == "}"
    assert repo_site.add_include(added) == added
    assert repo_site.remove_include(added) == site
    with pytest.raises(StepError):
        repo_site.add_include("server {\n    listen 443 ssl;\n}\n")


def test_the_location_serves_the_repository_folder_only_without_a_listing():
    text = repo_site.location_text()
    assert "location ^~ /jvb-join/debian/ {" in text
    assert "alias /var/www/jvb-join/debian/;" in text and "autoindex off;" in text


@pytest.fixture
def nginx(paths, monkeypatch):
    site = site_path(paths, DOMAIN)
    os.makedirs(os.path.dirname(site))
    with open(site, "w") as f:
        f.write(site_text())
    answers = {"nginx -t": Result(["nginx", "-t"], 0, "", "syntax is ok")}
    monkeypatch.setattr(nginx_files, "run", lambda argv, **kw: answers[" ".join(argv)])
    monkeypatch.setattr(systemd, "state_of", lambda name: {"ActiveState": "active", "SubState": "running"})
    reloads = []
    monkeypatch.setattr(systemd, "with_systemd", lambda action: reloads.append("reload"))
    return site, answers, reloads


def run_site(paths):
    ctx = Context(paths, Run(backups=files.Backups(paths.backups, paths.root)), lambda line: None)
    return Engine([repo_site.RepositorySite(DOMAIN)], ctx).run("test")


def test_a_second_run_changes_nothing_and_a_refused_config_is_put_back(paths, nginx):
    site, answers, reloads = nginx
    before = files.read_text(site)
    run_site(paths)
    assert repo_site.served(paths, DOMAIN) and reloads == ["reload"]
    assert run_site(paths).changed == [] and reloads == ["reload"]
    # a site whose nginx -t fails with the include: both files as they were, nginx not reloaded
    os.unlink(paths(repo_site.LOCATION_FILE))
    with open(site, "w") as f:
        f.write(before)
    answers["nginx -t"] = Result(["nginx", "-t"], 1, "", "nginx: [emerg] duplicate location")
    with pytest.raises(StepError):
        run_site(paths)
    assert files.read_text(site) == before and not os.path.exists(paths(repo_site.LOCATION_FILE))
    assert reloads == ["reload"]


def test_a_dry_run_before_the_jitsi_packages_plans_the_location_without_the_site(paths):
    ctx = Context(paths, Run(dry_run=True), lambda line: None)
    changes = repo_site.RepositorySite(DOMAIN).check(ctx)
    assert [c.target for c in changes] == [paths(repo_site.LOCATION_FILE)]
    with pytest.raises(StepError):
        repo_site.RepositorySite(DOMAIN).check(Context(paths, Run(), lambda line: None))
