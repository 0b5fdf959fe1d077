"""The Python quick start of docs/local-server.md, run exactly as written.

The block after the `<!-- interop: quickstart.py ... -->` marker runs in a fresh interpreter
against the binary started with its defaults (as `cargo run -p stream-chat-server` does; only
the port is a free one, handed over through STREAM_CHAT_URL as the page says).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "local-server.md"
RUN_TIMEOUT_S = 60


def snippet(markdown: str, name: str, lang: str) -> str:
    marker = f"<!-- interop: {name}"
    at = markdown.find(marker)
    assert at != -1, f'docs/local-server.md has no "{marker}" marker'
    m = re.search(r"-->\s*\n```" + lang + r"\n(.*?)\n```\n", markdown[at:], re.S)
    assert m, f"no ```{lang} block right after the {name} marker"
    return m.group(1) + "\n"


def test_the_python_quick_start_runs_as_written_against_the_default_server(default_server):
    code = snippet(PAGE.read_text(encoding="utf-8"), "quickstart.py", "python")
    assert default_server.api_key == "stream-local-key", "the page hard-codes the default key"
    env = {**os.environ, "STREAM_CHAT_URL": default_server.base_url}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert out.returncode == 0, (
        f"the quick start failed ({out.returncode}):\n{out.stdout}\n{out.stderr}\n"
        f"--- server ---\n{''.join(default_server.log)}"
    )
    assert re.search(r"^token for alice: \S+\.\S+\.\S+$", out.stdout, re.M), out.stdout
    assert re.search(r"^alice: Hello from Python$", out.stdout, re.M), out.stdout
