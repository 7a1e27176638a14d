"""Steps that write nginx's files (the colibri websocket routes, the bridges' repository): nginx -t
checks the files before any reload, and when it refuses them they are put back and nginx is left as
it was."""

from jvbjoin.errors import StepError
from jvbjoin.system import systemd
from jvbjoin.system.run import run
from jvbjoin.steps.base import FileStep


class NginxFiles(FileStep):
    what = "jvb-join's files"  # "nginx -t refused the configuration with <what>"
    rerun = "jvb-join server install"  # the command to run again once nginx -t is content

    def apply(self, ctx, changes, journal):
        running = systemd.is_running(systemd.state_of("nginx.service"))
        reloaded = []

        def reload_back():
            if reloaded:
                systemd.with_systemd(lambda s: s.reload_or_restart("nginx.service"))
        # Recorded first, so it runs last: once nginx was reloaded with the new files, it reloads
        # the files as they were put back (and is left alone when it never saw the new ones).
        journal.record("reload nginx", reload_back)
        super().apply(ctx, changes, journal)
        result = run(["nginx", "-t"], check=False, timeout=60)
        if not result.ok:
            output = (result.stderr or result.stdout).strip().splitlines()
            raise StepError("nginx -t refused the configuration with {}: {}".format(self.what, " / ".join(output[-3:])),
                            "The files were put back as they were and nginx was not reloaded; fix what nginx -t "
                            "says, then run '{}' again.".format(self.rerun))
        if running:
            ctx.progress("reloading nginx")
            before = self.before_reload(ctx)
            reloaded.append(True)
            systemd.with_systemd(lambda s: s.reload_or_restart("nginx.service"))
            self.after_reload(ctx, before)

    def before_reload(self, ctx):
        """What after_reload needs to know of nginx as it was (nothing by default)."""
        return None

    def after_reload(self, ctx, before):
        """Wait for what the reload must have done (nothing by default)."""
