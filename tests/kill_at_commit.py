"""``python tests/kill_at_commit.py K MODULE ARGS...``: run ``python -m MODULE ARGS...``
and SIGKILL this process at its K-th output commit (``distlm.data.fs.atomic_local``'s
rename), the earlier ones going through.

At that moment the K-th output is fully written to its hidden temporary and not yet
renamed: exactly where a writer that wrote in place would have left a partial file.
A command that does not write through the atomic path never reaches the K-th commit
and exits normally, which the caller's test reports."""
import os
import runpy
import signal
import sys

import distlm.data.fs as fs

kill_at, module, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
commits = []
commit = fs._commit


def _commit_or_die(tmp: str, final: str) -> None:
    commits.append(final)
    if len(commits) == kill_at:
        sys.stderr.write(f"kill_at_commit: SIGKILL before renaming onto {final}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    commit(tmp, final)


fs._commit = _commit_or_die
sys.argv = [module, *args]
runpy.run_module(module, run_name="__main__", alter_sys=True)
