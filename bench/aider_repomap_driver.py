"""Run by aider's own venv (bench/.cache/aider-venv): build aider's RepoMap for a repo, print JSON timings.

Only RepoMap is used, offline: tokens are counted with a chars/4 estimate (cheaper than aider's
tokenizer, which would need a download), and output goes to a quiet stand-in for aider's console.
"""

import json
import resource
import subprocess
import sys
import time

from aider.repomap import RepoMap


class QuietIO:
    def read_text(self, filename, silent=False):
        try:
            with open(filename, encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeDecodeError):
            return None

    def tool_output(self, *a, **k):
        pass

    tool_warning = tool_error = tool_output


class CharEstimateModel:
    def token_count(self, text):
        return len(text) // 4


def cpu_seconds():
    """CPU time of this process and its finished children (parse workers): fair under a loaded machine."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


root, budget = sys.argv[1], int(sys.argv[2])
files = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard"],
                       capture_output=True, text=True, check=True).stdout.split()
start = time.perf_counter()
cpu_start = cpu_seconds()
rm = RepoMap(map_tokens=budget, root=root, main_model=CharEstimateModel(), io=QuietIO(), refresh="always")
text = rm.get_repo_map(chat_files=[], other_files=[f"{root}/{f}" for f in files]) or ""
seconds = time.perf_counter() - start
cpu = cpu_seconds() - cpu_start
print(json.dumps({"seconds": seconds, "cpu": cpu, "chars": len(text),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
