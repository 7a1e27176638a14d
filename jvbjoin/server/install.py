"""``jvb-join server install``: the Jitsi Meet server package set, preseeded so nothing prompts.

It answers exactly the debconf questions the packages ask (reference: jitsi-packages.md §1), adds the
Jitsi repository, installs the web server first (the packages pick nginx or Apache from what is
installed), then prosody, jicofo and the jitsi-meet packages, opens the firewall for the web and
keeps prosody's client port for bridges, and checks that the services run.
"""

import os
import secrets
import ssl
import time
import urllib.request

from jvbjoin.formats.pin import spki_pin
from jvbjoin.formats.token import valid_dns_name
from jvbjoin.system import apt, files, host, systemd
from jvbjoin.system.run import run
from jvbjoin.engine.core import Change, Context, Engine, Step
from jvbjoin.engine.run import Run
from jvbjoin.errors import InputError, JvbJoinError, UsageError, VerifyError
from jvbjoin.steps import firewall
from jvbjoin.steps.java import JavaRuntime
from jvbjoin.steps.packages import DebconfPreseed, JitsiSource, Packages
from jvbjoin.bridge.join import supported_release
from jvbjoin.server.boundary import ClosedBrewery, JicofoRestLocal
from jvbjoin.server.letsencrypt import LetsEncryptCertificate
from jvbjoin.server.model import auth_cert_path
from jvbjoin.server.regions import region_steps
from jvbjoin.server.repo import Repository, clean_work
from jvbjoin.server.repo_site import RepositorySite
from jvbjoin.server.services import ExpiryTimer, LocalBridge, ensure_jicofo_answers, recorded_choice
from jvbjoin.server.tokens import check_region

CERT_CHOICES = {
    "self-signed": "Generate a new self-signed certificate",
    "own": "I want to use my own certificate",
    "letsencrypt": "Let's Encrypt certificates",
}
SERVER_UNITS = ("prosody.service", "jicofo.service")
WEB_PORTS = [(80, "tcp"), (443, "tcp")]
# The Jitsi packages' own sockets, which the server's firewall scopes on purpose: prosody's client
# port is let in from the bridges only; its s2s, BOSH/websocket and component ports, jicofo's REST and
# a local bridge's HTTP ports stay behind nginx or loopback. A run that turns ufw back on does not ask
# about them while their package is installed (before, the port is somebody else's).
JITSI_PORTS = {
    "prosody": [(port, "tcp") for port in (5222, 5269, 5280, 5281, 5347)],
    "jicofo": [(8888, "tcp")],
    "jitsi-videobridge2": [(8080, "tcp"), (9090, "tcp")],
}


class ServerOptions:
    def __init__(self, domain, cert="self-signed", cert_file=None, key_file=None, email=None, web="nginx",
                 local_bridge=None, dry_run=False, jitsi_repo_url=None, jitsi_repo_suite=None,
                 jitsi_repo_components=None, jitsi_repo_key=None, lock_timeout=300, firewall=True,
                 no_ssh=False, allow_unsupported_release=False, acme_directory=None, acme_ca_file=None,
                 firewall_cut_ok=False, confirm=None, region=None, no_regions=False,
                 region_groups=None):
        self.domain = domain
        self.cert = cert
        self.cert_file = cert_file
        self.key_file = key_file
        self.email = email
        self.web = web
        self.local_bridge = local_bridge  # True, False, or None: as chosen last time (default on)
        self.dry_run = dry_run
        self.jitsi_repo_url = jitsi_repo_url
        self.jitsi_repo_suite = jitsi_repo_suite
        self.jitsi_repo_components = jitsi_repo_components
        self.jitsi_repo_key = jitsi_repo_key
        self.lock_timeout = lock_timeout
        self.firewall = firewall
        self.no_ssh = no_ssh
        self.allow_unsupported_release = allow_unsupported_release
        self.acme_directory = acme_directory
        self.acme_ca_file = acme_ca_file
        self.firewall_cut_ok = firewall_cut_ok
        # asks the operator a yes/no question on a terminal; None when no one is there to ask
        self.confirm = confirm
        self.region = region  # this server's relay region (regions/relays on), or None: left as it is
        self.no_regions = no_regions  # take regions and relays out again
        self.region_groups = region_groups  # [[region, ...], ...] for jicofo, or None: as they are

    def as_dict(self):
        return {k: v for k, v in vars(self).items() if k != "confirm"}


class ServerRun(Run):
    """One `server install`: its options, and what the shared steps learn."""

    def __init__(self, options, backups=None):
        super().__init__(options, options.dry_run, backups, options.lock_timeout, options.firewall,
                         options.no_ssh)


def validate(opts):
    if not valid_dns_name(opts.domain):
        raise UsageError("--domain must be a DNS name such as meet.example.com, not {!r}.".format(opts.domain))
    check_region(opts.region)
    if opts.region and opts.no_regions:
        raise UsageError("--region and --no-regions contradict each other: give one.")
    if opts.region_groups is not None and not opts.region:
        raise UsageError("--region-group needs --region (this server's own region) in the same run.")
    for group in opts.region_groups or ():
        for region in group:
            check_region(region, "each region of --region-group")
        if len(group) < 2:
            raise UsageError("--region-group names two or more regions, such as eu-west,eu-central.")
    if opts.cert == "own":
        if not (opts.cert_file and opts.key_file):
            raise UsageError("--cert own needs --cert-file and --key-file.")
        for path in (opts.cert_file, opts.key_file):
            if not os.path.isfile(path):
                raise InputError("{} does not exist.".format(path))
    if opts.cert == "letsencrypt":
        if not opts.email or "@" not in opts.email or any(c.isspace() for c in opts.email):
            raise UsageError("--cert letsencrypt needs --email ADDRESS (the ACME account's contact).")
        if opts.acme_directory and not opts.acme_directory.startswith("https://"):
            raise UsageError("--acme-directory must be an https:// URL, not {!r}.".format(opts.acme_directory))
        if opts.acme_ca_file and not os.path.isfile(opts.acme_ca_file):
            raise InputError("{} does not exist.".format(opts.acme_ca_file))
    elif opts.acme_directory or opts.acme_ca_file or opts.email:
        raise UsageError("--email, --acme-directory and --acme-ca-file go with --cert letsencrypt.")


def debconf_answers(opts):
    """What the Jitsi packages would ask, as ``(owner, question, type, value)``; never a secret."""
    domain = opts.domain
    # Let's Encrypt: the packages start with their self-signed certificate (their own choice would
    # download acme.sh and only talk to Let's Encrypt); the letsencrypt step replaces it.
    choice = CERT_CHOICES["self-signed" if opts.cert == "letsencrypt" else opts.cert]
    answers = [
        ("jitsi-videobridge2", "jitsi-videobridge/jvb-hostname", "string", domain),
        ("jitsi-meet-web-config", "jitsi-meet/cert-choice", "select", choice),
        ("jitsi-meet-web-config", "jitsi-meet/jaas-choice", "boolean", "false"),
    ]
    if opts.cert == "own":
        answers += [("jitsi-meet-web-config", "jitsi-meet/cert-path-crt", "string", os.path.abspath(opts.cert_file)),
                    ("jitsi-meet-web-config", "jitsi-meet/cert-path-key", "string", os.path.abspath(opts.key_file))]
    if opts.web == "apache":
        answers.append(("jitsi-meet-web-config", "jitsi-meet/enforce_apache", "boolean", "true"))
    return answers


class GeneratedSecrets(Step):
    """The component secrets jitsi-meet-prosody would prompt for when no local bridge sets them.

    Given to debconf on stdin (never on a command line). The packages themselves keep these values
    in debconf's root-only passwords.dat, as they always do.
    """

    name = "secrets"
    title = "prosody secrets for the packages"
    QUESTIONS = (("jitsi-meet-prosody", "jitsi-videobridge/jvbsecret"),)

    def check(self, ctx):
        changes = []
        for owner, question in self.QUESTIONS:
            current = apt.debconf_get(question)
            if not current:
                changes.append(Change("debconf", question, "generate {}".format(question),
                                      data=(owner, question, current is not None)))
        return changes

    def apply(self, ctx, changes, journal):
        for change in changes:
            owner, question, registered = change.data
            value = secrets.token_urlsafe(18)
            # Undo: empty again if a package had registered the question; else unregistered as its
            # owner, which is what makes debconf drop the question and its placeholder template.
            command = "SET {} \n" if registered else "UNREGISTER {}\n"
            journal.record("clear {}".format(question),
                           lambda q=question, o=owner, c=command: run(["debconf-communicate", o],
                                                                      input=c.format(q), check=False))
            run(["debconf-set-selections"], input="{} {} password {}\n".format(owner, question, value),
                secrets=[value])


def server_steps(ctx):
    opts = ctx.run.options
    source = JitsiSource.from_options(opts)
    web = ["apache2"] if opts.web == "apache" else ["nginx"]
    jitsi = ["prosody", "jicofo", "jitsi-meet-web", "jitsi-meet-prosody", "jitsi-meet-web-config"]
    explicit = opts.local_bridge is not None
    local_bridge = wants_local_bridge(opts, ctx.paths)
    if local_bridge:
        jitsi.insert(0, "jitsi-videobridge2")
    steps = [DebconfPreseed(debconf_answers(opts)), GeneratedSecrets(), source,
             Packages(web, lock_timeout=opts.lock_timeout, name="web-server", title="web server"),
             JavaRuntime("jicofo", lock_timeout=opts.lock_timeout),
             Packages(jitsi, lock_timeout=opts.lock_timeout, name="jitsi-packages", title="Jitsi Meet packages"),
             AuthPin()]
    steps += [ClosedBrewery(opts.domain), JicofoRestLocal()]
    if opts.firewall:
        ports = [(str(port), proto) for port, proto in server_ports(local_bridge)]
        steps.append(firewall.Firewall(ports=ports))
    steps.append(LocalBridge(local_bridge, explicit))
    steps += region_steps(opts.region, local_bridge, opts.no_regions, opts.region_groups)
    steps.append(ExpiryTimer())
    if opts.web == "nginx":
        steps += [Packages(["gpg", "gpg-agent"], lock_timeout=opts.lock_timeout, name="gpg",
                           title="gpg (signs the bridges' repository)"),
                  Repository(), RepositorySite(opts.domain)]
    if opts.cert == "letsencrypt":
        certbot = Packages(["certbot"], lock_timeout=opts.lock_timeout, name="certbot",
                           title="certbot (ACME client)")
        steps += [certbot, LetsEncryptCertificate(opts.domain, opts.email, opts.acme_directory,
                                                  opts.acme_ca_file, opts.web)]
    return steps


def wants_local_bridge(opts, paths):
    """--local-bridge / --no-local-bridge, else what was chosen last time, else a local bridge."""
    return opts.local_bridge if opts.local_bridge is not None else recorded_choice(paths) is not False


def server_ports(local_bridge):
    """What the server's firewall lets in from anywhere: the web server, and the media port of a
    bridge on the server itself."""
    return WEB_PORTS + ([firewall.MEDIA_PORT] if local_bridge else [])


def check_firewall_cut(ctx, opts):
    """Turning ufw on keeps SSH, the web, a local bridge's media and the Jitsi set's own (scoped)
    ports; anything else the server serves today is named and asked about first."""
    if not opts.firewall:
        return
    keep = {(port, "tcp") for port in host.ssh_ports()} | set(server_ports(wants_local_bridge(opts, ctx.paths)))
    states = apt.package_states(ctx.paths)
    for package, ports in JITSI_PORTS.items():
        if package in states and states[package].installed:
            keep.update(ports)
    firewall.refuse_cut(ctx, keep, opts.firewall_cut_ok, opts.confirm)


class AuthPin(Step):
    """Remembers the auth certificate's pin, so doctor and token list can tell when it changed
    (every token issued before would then fail its pin check)."""

    name = "auth-pin"
    title = "auth certificate pin"

    def _pins(self, ctx):
        data = files.read_bytes(auth_cert_path(ctx.paths, ctx.run.options.domain))
        if data is None:
            return None, os.path.join(ctx.paths.server_state, "auth-pin")
        return spki_pin(data), os.path.join(ctx.paths.server_state, "auth-pin")

    def check(self, ctx):
        if ctx.run.dry_run:
            return []
        pin, path = self._pins(ctx)
        if pin and (files.read_text(path) or "").strip() != pin:
            return [Change("file", path, "record the auth certificate pin", data=pin)]
        return []

    def apply(self, ctx, changes, journal):
        pin, path = self._pins(ctx)
        before = files.FileState.read(path)
        journal.record("restore {}".format(path), lambda: files.restore(before))
        os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
        files.write_atomic(path, pin + "\n", 0o600, 0, 0)


def verify_server(ctx, report):
    """prosody, jicofo and the web server are active, jicofo's daemon answers (its unit can say active
    after the daemon died) and the web page answers on 443."""
    opts = ctx.run.options
    units = list(SERVER_UNITS) + ["apache2.service" if opts.web == "apache" else "nginx.service"]
    with systemd.Systemd() as manager:
        for unit in units:
            manager.wait_active(unit, settle=2.0, timeout=60)
    ensure_jicofo_answers(ctx.paths, ctx.progress)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the page may use a self-signed certificate: we test it answers
    deadline = time.monotonic() + 30
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("https://127.0.0.1/", timeout=5, context=context) as response:
                if response.status == 200:
                    return
                last = "HTTP {}".format(response.status)
        except OSError as exc:
            last = str(exc)
        time.sleep(1)
    unit, log = ("apache2", "/var/log/apache2/error.log") if opts.web == "apache" else \
        ("nginx", "/var/log/nginx/error.log")
    raise VerifyError("The web server does not answer on https://127.0.0.1/: {}".format(last),
                      "See 'journalctl -u {}' and {}.".format(unit, log))


def install(opts, paths, progress):
    validate(opts)
    ctx = Context(paths, ServerRun(opts, files.Backups(paths.backups, paths.root)), progress)
    for folder in paths.written_folders:
        files.clean_stale_temps(folder)
    files.clean_stale_temps_under(paths.backups)

    def preflight(c):
        if os.geteuid() != 0:
            raise JvbJoinError("jvb-join server install must run as root.", "Run it again with sudo.")
        apt.ready_for_packages(paths, opts.lock_timeout, progress, opts.dry_run)
        supported_release(c, "server", opts.allow_unsupported_release)
        check_firewall_cut(c, opts)

    engine = Engine(server_steps(ctx), ctx, verify=None if opts.dry_run else verify_server, preflight=preflight)
    try:
        return engine.run("server install", dry_run=opts.dry_run)
    finally:
        clean_work(paths)
