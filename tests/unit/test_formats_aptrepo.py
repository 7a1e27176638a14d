"""The apt repository's index text and the bridges' join line."""

import gzip
import hashlib
import shlex

from jvbjoin.formats import aptrepo

CONTROL = ("Package: jvb-join\nVersion: 1.2-1\nArchitecture: all\nDepends: python3-click\n"
           "Description: add bridges\n more text\n")


def test_a_packages_stanza_keeps_the_control_fields_and_adds_where_and_hashes():
    data = b"deb bytes"
    stanza = aptrepo.packages_stanza(CONTROL, "pool/main/jvb-join_1.2-1_all.deb", data)
    assert stanza.startswith(CONTROL.rstrip("\n") + "\nFilename: pool/main/jvb-join_1.2-1_all.deb\n")
    assert "Size: 9\n" in stanza and "SHA256: {}\n".format(hashlib.sha256(data).hexdigest()) in stanza
    assert aptrepo.control_field(stanza, "Version") == "1.2-1"
    assert aptrepo.control_field(stanza, "Depends") == "python3-click"


def test_the_release_file_lists_every_index_with_its_hash_and_gzip_is_reproducible():
    packages = aptrepo.packages_index([aptrepo.packages_stanza(CONTROL, "pool/main/a.deb", b"x")])
    files = aptrepo.index_files(packages)
    assert files == aptrepo.index_files(packages)  # same bytes twice: no time in the gzip header
    assert gzip.decompress(files["main/binary-arm64/Packages.gz"]) == packages
    release = aptrepo.release_text(files, "Mon, 07 Dec 2026 08:00:00 GMT", "d")
    assert "Suite: stable\nCodename: stable\n" in release
    assert "Architectures: amd64 arm64 armel armhf i386 mips64el ppc64el riscv64 s390x\n" in release
    sha = hashlib.sha256(files["main/binary-amd64/Packages"]).hexdigest()
    assert " {} {:>8} main/binary-amd64/Packages\n".format(sha, len(packages)) in release
    assert release.count("\n ") == 2 * len(files)


def test_the_join_line_is_one_line_that_checks_the_key_and_keeps_the_token_off_command_lines():
    token = "jvbj1.abc_DEF-ghi"
    line = aptrepo.join_line("http://meet.example.com/jvb-join/debian", "ab" * 32, token)
    assert "\n" not in line and "curl" not in line and "wget" not in line
    steps = line.split(" && ")
    assert steps[1] == ("/usr/lib/apt/apt-helper download-file http://meet.example.com/jvb-join/debian/jvb-join.asc "
                        "/etc/apt/keyrings/jvb-join.asc SHA256:" + "ab" * 32)
    # the token only reaches the shell's printf builtin, piped to 'jvb-join join -'
    assert [s for s in steps if token in s] == ["printf '%s\\n' {} | jvb-join join -".format(token)]
    assert steps.index("apt-get update") < steps.index(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 jvb-join")


def test_the_join_line_writes_the_deb822_source_sh_would_write(tmp_path):
    line = aptrepo.join_line("http://[2001:db8::1]/jvb-join/debian", "00" * 32, "t'ok en")
    printf = [s for s in line.split(" && ") if s.startswith("printf 'Types")][0]
    words = shlex.split(printf)
    assert words[2] == ">" and words[3] == "/etc/apt/sources.list.d/jvb-join.sources"
    assert "'\"'\"'" in line  # a quote in a token cannot end the quoting early
    # what printf makes of the escaped text is the source, byte for byte
    assert words[1].replace("\\n", "\n") == aptrepo.source_text("http://[2001:db8::1]/jvb-join/debian")
