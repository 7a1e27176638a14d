"""Error types of jvb-join: each carries a stable exit code and one remedy line for the operator.

The exit codes are a contract (DESIGN §5) and must never change meaning:

    0  done, or healthy
    1  failed; the host is as it was before the run (rolled back)
    2  done but degraded (doctor: warnings only)
    64 usage error
    65 bad token or bad input file
    75 temporary (dpkg lock held, server unreachable); safe to retry

Every error type also has a stable ``error_id`` of its own (for ``--json`` and scripts), listed in
the man page's ERRORS section; a unit test keeps the two in step.
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_DEGRADED = 2
EXIT_USAGE = 64
EXIT_DATAERR = 65
EXIT_TEMPFAIL = 75


class JvbJoinError(Exception):
    """Base of every error jvb-join reports to the operator.

    ``message`` says what went wrong in the operator's words; ``remedy`` says what to do next.
    Neither may contain a secret: callers pass redacted text only.
    """

    error_id = "failed"
    exit_code = EXIT_FAILED
    default_remedy = None

    def __init__(self, message, remedy=None):
        super().__init__(message)
        self.message = message
        self.remedy = remedy if remedy is not None else self.default_remedy

    def __str__(self):
        return self.message


class UsageError(JvbJoinError):
    """The command line asks for something that cannot be done as asked."""

    error_id = "usage"
    exit_code = EXIT_USAGE
    default_remedy = "Run 'jvb-join --help' for the commands and their options."


class OptionsFileError(UsageError):
    """A line of the options file (/etc/jvb-join/options) that jvb-join cannot read."""

    error_id = "options-file"

    def __init__(self, path, line, problem, fix):
        self.path, self.line, self.problem = path, line, problem
        super().__init__("{} line {}: {}.".format(path, line, problem),
                         "Fix line {} of {} ({}), or remove it.".format(line, path, fix))


class NotBuiltError(UsageError):
    """A command exists in the interface but its capability is not in this version."""

    error_id = "not-built"
    default_remedy = "Upgrade jvb-join to a version that has this command."


class InputError(JvbJoinError):
    """A file or value given to jvb-join is malformed."""

    error_id = "bad-input"
    exit_code = EXIT_DATAERR


class TokenError(InputError):
    """The join token is malformed, expired or not for this server; never includes the token."""

    error_id = "bad-token"
    default_remedy = "Create a new token on the Jitsi Meet server with 'jvb-join token create' and copy it whole."


class TokenExpiredError(TokenError):
    """The join token's expiry time has passed."""

    error_id = "token-expired"


class TokenUsedError(TokenError):
    """The server refuses the token's own account: used by another bridge, revoked, or removed at expiry."""

    error_id = "token-used"


class DomainServedError(JvbJoinError):
    """The token is of another server whose XMPP domain this bridge already serves (bridge.shards)."""

    error_id = "domain-served"


class PinMismatchError(InputError):
    """The server's TLS certificate does not match the pin in the token."""

    error_id = "pin-mismatch"
    default_remedy = ("Check that the token is for this server; if its certificate was replaced, "
                      "create a new token with 'jvb-join token create'.")


class TemporaryError(JvbJoinError):
    """Something outside jvb-join is busy or unreachable; the same command may work later."""

    error_id = "temporary"
    exit_code = EXIT_TEMPFAIL
    default_remedy = "Nothing was changed; run the same command again later."


class LockTimeoutError(TemporaryError):
    """The dpkg/apt lock stayed held past the timeout."""

    error_id = "dpkg-lock-held"


class UnreachableError(TemporaryError):
    """A server or repository could not be reached."""

    error_id = "unreachable"


class DpkgInterruptedError(JvbJoinError):
    """dpkg stopped half way before this run (its journal is not empty, or packages are left
    unpacked but not configured); no retry fixes that, 'dpkg --configure -a' does."""

    error_id = "dpkg-interrupted"
    default_remedy = ("Run 'dpkg --configure -a' (then 'apt-get -f install' if it reports dependency "
                      "problems) and then the same jvb-join command again.")


class DiskFullError(JvbJoinError):
    """A file could not be written: the filesystem holding it is full."""

    error_id = "disk-full"


class HeldPackageError(JvbJoinError):
    """A package pinned with 'apt-mark hold' would have to change version."""

    error_id = "package-held"


class CommandError(JvbJoinError):
    """An external program failed. Carries the argv, exit code and (redacted) output."""

    error_id = "command-failed"

    def __init__(self, argv, returncode, output="", message=None, remedy=None, timed_out=False):
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        self.timed_out = timed_out
        if message is None:
            if timed_out:
                message = "{} did not finish in time".format(self.argv[0])
            else:
                message = "{} failed with exit code {}".format(" ".join(self.argv), returncode)
        super().__init__(message, remedy)

    def output_tail(self, lines=10):
        return "\n".join(self.output.rstrip("\n").splitlines()[-lines:])


class StepError(JvbJoinError):
    """A step could not reach the state it wants; the engine rolls back."""

    error_id = "step-failed"


class RollbackError(JvbJoinError):
    """Undoing a change failed too: the host may be in between. The message names what is left."""

    error_id = "rollback-incomplete"
    default_remedy = "Restore the files listed above from the backups in /var/backups/jvb-join."


class VerifyError(JvbJoinError):
    """Everything was applied but the bridge did not prove that it works; the engine rolls back."""

    error_id = "not-in-brewery"


class FirewallCutError(JvbJoinError):
    """Turning ufw on would cut services this host serves to others today; nothing was changed."""

    error_id = "firewall-would-cut"
    default_remedy = ("Allow what must stay reachable first (ufw allow PORT/PROTO, or 'ufw allow from ADDRESS to "
                      "any port PORT'), or run again with --firewall-cut-ok, or with --no-firewall.")


#: the id of an error jvb-join did not expect (a bug, or a fault of the host it has no words for)
INTERNAL_ERROR_ID = "internal-error"
#: the id of a run stopped by a signal or Ctrl-C (engine.Interrupted while changes were made)
INTERRUPTED_ID = "interrupted"
