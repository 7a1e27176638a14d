"""Every filesystem path jvb-join reads or writes, rooted so tests can run against a temporary tree."""

import os


class Paths:
    """Paths on one host. ``Paths("/")`` is the real host; ``Paths(tmpdir)`` a test tree.

    Code never spells a path literally: it asks this object, so a unit test that gives a temporary
    root sees every read and write land inside it.
    """

    def __init__(self, root="/"):
        self.root = os.path.abspath(root)

    def __call__(self, *parts):
        """The path ``/a/b`` under this root: ``paths("/etc/hosts")`` or ``paths("etc", "hosts")``."""
        rel = os.path.join(*parts).lstrip("/")
        return os.path.join(self.root, rel) if rel else self.root

    def __repr__(self):
        return "Paths({!r})".format(self.root)

    # --- jvb-join's own files -------------------------------------------------------------
    @property
    def etc(self):
        return self("/etc/jvb-join")

    @property
    def state(self):
        return self("/var/lib/jvb-join")

    @property
    def backups(self):
        return self("/var/backups/jvb-join")

    @property
    def log_dir(self):
        return self("/var/log/jvb-join")

    @property
    def firstboot_token(self):
        return self("/etc/jvb-join/token")

    @property
    def options_file(self):
        """Defaults for the options of unattended joins and server installs (jvbjoin.bridge.unattended)."""
        return self("/etc/jvb-join/options")

    @property
    def joined_as(self):
        """Holds a file named by the machine-id the bridge joined as. jvb-join's drop-in for
        jitsi-videobridge2 starts the bridge only if it names the current machine-id, so a clone of
        a joined host does not log in with the original's account and nickname."""
        return self("/var/lib/jvb-join/joined-as")

    @property
    def nickname_file(self):
        """The bridge's nickname and the machine-id it was made for (see bridge.model)."""
        return self("/var/lib/jvb-join/nickname")

    @property
    def bridge_state(self):
        return self("/var/lib/jvb-join/bridge.json")

    @property
    def bridge_servers(self):
        """The records of the servers a bridge serves beyond its first (bridge.shards), one file each."""
        return self("/var/lib/jvb-join/servers")

    @property
    def restart_pending(self):
        """Services whose new config is on disk but which were not restarted yet (a run was stopped)."""
        return self("/var/lib/jvb-join/restart-pending")

    @property
    def bridge_start_hold(self):
        """Says that the runtime mask of jitsi-videobridge2 is jvb-join's (see bridge.steps.service);
        under /run like the mask, so both are gone after a reboot."""
        return self("/run/jvb-join/bridge-start-hold")

    @property
    def server_state(self):
        return self("/var/lib/jvb-join/server")

    # --- host facts -------------------------------------------------------------------------
    @property
    def os_release(self):
        return self("/etc/os-release")

    @property
    def machine_id(self):
        return self("/etc/machine-id")

    @property
    def dpkg_status(self):
        return self("/var/lib/dpkg/status")

    @property
    def dpkg_updates(self):
        return self("/var/lib/dpkg/updates")

    @property
    def dpkg_locks(self):
        return [self("/var/lib/dpkg/lock-frontend"), self("/var/lib/dpkg/lock")]

    @property
    def sshd_config(self):
        return self("/etc/ssh/sshd_config")

    # --- apt ----------------------------------------------------------------------------------
    @property
    def apt_sources_dir(self):
        return self("/etc/apt/sources.list.d")

    @property
    def jitsi_source(self):
        return self("/etc/apt/sources.list.d/jitsi-stable.sources")

    @property
    def jitsi_keyring(self):
        return self("/usr/share/keyrings/jitsi-keyring.gpg")

    @property
    def adoptium_source(self):
        return self("/etc/apt/sources.list.d/adoptium.sources")

    @property
    def adoptium_keyring(self):
        return self("/etc/apt/keyrings/adoptium.asc")

    # --- the bridge ---------------------------------------------------------------------------
    @property
    def jvb_dir(self):
        return self("/etc/jitsi/videobridge")

    @property
    def jvb_conf(self):
        return self("/etc/jitsi/videobridge/jvb.conf")

    @property
    def jvb_fragment(self):
        """The file jvb-join owns whole; jvb.conf includes it by one marked line."""
        return self("/etc/jitsi/videobridge/jvb-join.conf")

    @property
    def jvb_legacy_properties(self):
        return self("/etc/jitsi/videobridge/sip-communicator.properties")

    @property
    def jvb_logging(self):
        return self("/etc/jitsi/videobridge/logging.properties")

    @property
    def jvb_config(self):
        return self("/etc/jitsi/videobridge/config")

    @property
    def jvb_log(self):
        return self("/var/log/jitsi/jvb.log")

    @property
    def jicofo_log(self):
        return self("/var/log/jitsi/jicofo.log")

    # --- trust and kernel ----------------------------------------------------------------------
    @property
    def local_ca_dir(self):
        return self("/usr/local/share/ca-certificates")

    @property
    def java_cacerts(self):
        return self("/etc/ssl/certs/java/cacerts")

    @property
    def sysctl_file(self):
        return self("/etc/sysctl.d/60-jvb-join.conf")

    @property
    def ufw_default(self):
        return self("/etc/default/ufw")

    # --- where a killed run may have left a temporary file --------------------------------------
    @property
    def written_folders(self):
        """Every folder jvb-join writes a file into (atomically, through a temporary file there)."""
        folders = [self.state, self.bridge_servers, self.joined_as, self.server_state, self.etc, self.apt_sources_dir, self.jvb_dir,
                   self.local_ca_dir, self("/etc/ufw"),
                   os.path.dirname(self.bridge_start_hold)]
        folders += [os.path.dirname(path) for path in (self.ufw_default, self.sysctl_file,
                                                         self.jitsi_keyring, self.adoptium_keyring)]
        return sorted(set(folders))
