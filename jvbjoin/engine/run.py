"""What the steps of one command share beyond the host's paths: a run object.

Every command (join, leave, server install, server turn, ...) makes one run object and hands it to
the engine's :class:`~jvbjoin.engine.core.Context` as ``ctx.run``. :class:`Run` holds what the shared
steps read whatever the command (dry run, backups, apt's lock timeout, the firewall switches) and
what they learn on the way; each command's subclass adds its options and what its own steps learn
for later steps to read.
"""

from jvbjoin.system.apt import DEFAULT_LOCK_TIMEOUT


class Run:
    """The fields every command's run has.

    ``options`` is the command's options object; ``backups`` a :class:`~jvbjoin.system.files.Backups`
    for the files the run changes or removes (None: no backups are made).
    """

    def __init__(self, options=None, dry_run=False, backups=None, lock_timeout=DEFAULT_LOCK_TIMEOUT,
                 firewall=True, no_ssh=False):
        self.options = options
        self.dry_run = dry_run
        self.backups = backups
        self.lock_timeout = lock_timeout
        #: False with --no-firewall: the firewall steps change nothing
        self.firewall = firewall
        #: --no-ssh: ufw may be turned on although no SSH port was found
        self.no_ssh = no_ssh
        # learned by preflight: the os-release fields and this host's row of the support table
        self.release = None
        self.release_row = None
        # apt: a step added a source since the last update; the update was made; what it printed
        self.apt_sources_changed = False
        self.apt_updated = False
        self.apt_update_output = ""
        #: packages a step (the Java runtime) asks the package step to install in the same apt-get run
        self.with_packages = []
        #: what turning ufw on keeps others from (named in the report)
        self.firewall_cut = None
