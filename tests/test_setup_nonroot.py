"""`make setup` as an ordinary user, with the distribution's own python3, from a fresh clone.

Debian 12 and Ubuntu 24.04 mark their Python as externally managed (PEP 668): ``pip install
--user`` is refused there, so the Makefile brings uv in through a virtual environment of its own
(``.uv-bootstrap/``). As root (CI) the test makes a throwaway system user (removed at teardown),
clones this checkout's HEAD into its home and runs the set-up as it; as anyone else it runs the
set-up as that user, in a clone in a temporary folder. Nothing of root's (its uv, its caches) is
visible to the user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, system_user

pytestmark = pytest.mark.slow

SYSTEM_PYTHON = Path("/usr/bin/python3")
NETWORK = {
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "PIP_CERT",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_NATIVE_TLS",
    "npm_config_registry",
    "NPM_CONFIG_REGISTRY",
}


def _usable_python() -> str | None:
    """Why the distribution's python3 cannot be the one tested, or None."""
    if not SYSTEM_PYTHON.is_file():
        return f"{SYSTEM_PYTHON} is missing: no distribution Python to set up with"
    done = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.stdout.strip() != "True":
        return f"{SYSTEM_PYTHON} is older than 3.11, which the kit needs"
    for tool in ("git", "make"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    return None


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: Path

    def run(
        self, argv: list[str], cwd: Path, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            # the machine's network settings (its CA bundle, proxies, package index), which a
            # user logged in here would have too; nothing else of the test's environment
            **{k: v for k, v in os.environ.items() if k in NETWORK or k.lower().endswith("_proxy")},
        }
        as_user = (
            {"user": self.uid, "group": self.gid, "extra_groups": []} if os.geteuid() == 0 else {}
        )
        return subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            **as_user,  # type: ignore[call-overload]
        )


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    why = _usable_python()
    if why:
        pytest.skip(why)
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        yield Account(entry.pw_name, entry.pw_uid, entry.pw_gid, tmp_path_factory.mktemp("home"))
        return
    if shutil.which("useradd") is None:
        pytest.skip("useradd (passwd) is missing: cannot make an ordinary user")
    with system_user("fksetup") as entry:
        yield Account(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def test_make_setup_as_an_ordinary_user_with_the_distributions_python(account: Account) -> None:
    clone = account.home / "kit"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True)
    if os.geteuid() == 0:
        subprocess.run(
            ["chown", "-R", f"{account.uid}:{account.gid}", str(account.home)], check=True
        )
    had_uv = account.run([str(SYSTEM_PYTHON), "-m", "uv", "--version"], cwd=clone).returncode == 0

    done = account.run(["make", "setup", f"PYTHON={SYSTEM_PYTHON}"], cwd=clone)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    if not had_uv:  # the Python had no uv: the private copy, and the system Python untouched
        assert (clone / ".uv-bootstrap" / "bin" / "uv").is_file(), done.stdout
        still = account.run([str(SYSTEM_PYTHON), "-m", "uv", "--version"], cwd=clone)
        assert still.returncode != 0, "uv went into the system Python or the user's site"
    # the environment is the distribution's Python's, and filmkit runs in it
    base = account.run(
        [str(clone / ".venv" / "bin" / "python"), "-c", "import sys; print(sys.base_prefix)"],
        cwd=clone,
    )
    assert base.stdout.strip() == "/usr"
    corpus = account.run([str(clone / ".venv" / "bin" / "filmkit"), "corpus"], cwd=clone)
    assert corpus.returncode == 0, corpus.stderr
    manifest = (REPO / "source_texts" / "manifest.csv").read_text(encoding="utf-8").splitlines()
    ids = [line.split(",", 1)[0] for line in manifest[1:] if line]
    assert ids and all(source in corpus.stdout for source in ids)
