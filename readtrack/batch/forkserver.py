"""The worker process of the fork-server pool: it runs `RunRequest`\\ s by calling
:func:`readtrack.runner.run_plugin` itself, each in a fresh forked child (Linux), never through the CLI.

Started as ``python -m readtrack.batch.forkserver`` (through `readtrack.base.processes.python_module`, so it
imports the readtrack its parent imported), it imports torch, ``torch._dynamo`` (`preload_dynamo`) and the
runner once (never touching CUDA, so a child may still use it), then reads one request per line on stdin
(`RunRequest.to_json`) and for each:

1. imports the request's plugin (once per plugin: later children inherit it);
2. forks; the child runs the request (:func:`run_request`) in a copy of a process that has run nothing yet:
   its events as JSON lines on stdout, ending with the ``record`` (or one ``error`` event), stdin closed; it
   exits with the run's exit code. Anything the plugin prints goes to stderr, Python's and C's alike: the
   child keeps stdout's pipe on a descriptor of its own for the events and points descriptor 1 at stderr
   (:func:`events_stream`), so no print can break the event stream;
3. waits for the child, writes the end of its output on stderr (:func:`output_ended`: the mark of
   `events.output_mark` with the token the pool gave it in ``READTRACK_FORKSERVER_MARK``, so the pool hands
   a run the whole of its stderr and none of the next run's), then ``{"type": "forkserver", "exit": CODE}``
   on stdout: the request's end.

So every run starts from a pristine process (a crash, a hang or a change to torch's global state dies with
its child) and gives the numbers it gives alone (``tests/batch/test_forkserver.py``). The server exits at the
end of stdin. SIGTERM to its process group stops the server and the child; the child records its run as
cancelled, as a run stopped by SIGTERM does. ``--one REQUEST`` runs one request in this process instead (where
forking is not safe: macOS, Windows) and exits with its code.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import TextIO

from readtrack.batch.request import RunRequest
from readtrack.plugins import events


def output_ended(token: str) -> None:
    """Say on stderr that the request's output is all there (everything its child wrote came before)."""
    sys.stderr.flush()
    os.write(2, events.output_mark(token))


def request_ended(token: str, code: int) -> None:
    """The end of a request: its output's mark on stderr, then its exit code on stdout."""
    import json

    output_ended(token)
    print(json.dumps(events.ended(code)), flush=True)


def preload(request: RunRequest) -> None:
    """Import the request's plugin and fingerprint its code, so the children forked for it start with both
    done (each run records the fingerprint: the child only checks the files' bytes are unchanged). A plugin
    that fails to load is left to its child, which reports it as the run would."""
    from readtrack.history.calibration import package_fingerprint
    from readtrack.plugins import discovery as plugins

    try:
        package_fingerprint(plugins.load_plugin(request.plugin).info.package)
    except Exception:  # the child meets the same error and reports it in its own words
        return


#: ``0`` leaves `preload_dynamo` out: for plugins that build no optimizer (the test suite's toy plugins,
#: whose many fork servers would each pay ~1 s for nothing); a run imports ``torch._dynamo`` if it must.
PRELOAD_DYNAMO_VARIABLE = "READTRACK_FORKSERVER_DYNAMO"


def preload_dynamo() -> None:
    """Import ``torch._dynamo`` in the server, so its children inherit it: the first optimizer a process
    builds imports it (``torch.optim`` wraps its methods with it), and a forked child otherwise pays that
    import in its first stage, every run (measured on 2 cores: ~1 s a run quiet, 3-5 s at a load of 5-10; it
    spawns no thread and touches no CUDA, so forking after it is as safe as after ``import torch``). An
    import that fails is left to the child that needs it, which reports it as the run would. Not with
    ``READTRACK_FORKSERVER_DYNAMO=0`` (`PRELOAD_DYNAMO_VARIABLE`)."""
    if os.environ.get(PRELOAD_DYNAMO_VARIABLE) == "0":
        return
    try:
        import torch._dynamo  # noqa: F401
    except Exception:
        return


def events_stream() -> TextIO:
    """The stream a worker's child writes its events to: stdout's pipe, on a descriptor of its own, while
    descriptor 1 (and ``sys.stdout``) becomes stderr, where whatever the run prints belongs."""
    sys.stdout.flush()
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


def run_request(request: RunRequest, stream: TextIO) -> int:
    """Run ``request`` in this process, its events as JSON lines on ``stream`` (see the module docstring),
    and return its exit code: the run's (0 passed, 1 failed, 130 cancelled), or a refused request's (2)."""
    from readtrack.base.errors import ReadtrackError
    from readtrack.plugins.records import json_lines
    from readtrack.runner import run as runner

    try:
        record = runner.run_streaming_json(
            json_lines(stream),
            lambda emit: runner.run_plugin(request.plugin, emit=emit, **request.run_kwargs()),
        )
    except ReadtrackError as err:  # said as an error event by run_streaming_json; its line on stderr too
        print(f"readtrack: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:  # stopped before the run began (while loading): nothing to record
        return runner.EXIT_CANCELLED
    return runner.exit_code(record)


def _in_child(request: RunRequest) -> int:
    """In the forked child: stdin closed, the request run, every stream flushed."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    code = 1
    stream = events_stream()
    try:
        code = run_request(request, stream)
    except BaseException:  # what the run did not handle: as an uncaught error in a process of its own
        import traceback

        traceback.print_exc()
    finally:
        stream.flush()
        sys.stderr.flush()
    return code


def serve() -> None:
    """Read requests from stdin until it ends; fork, wait and report each (the module docstring)."""
    import torch  # noqa: F401  (the point of the server: imported once, inherited by every child)

    preload_dynamo()
    import readtrack.history.calibration
    import readtrack.history.runs
    import readtrack.runner.run  # noqa: F401  (what every run imports on its way to its first stage)

    token = os.environ.pop(events.OUTPUT_MARK_VARIABLE, "")  # the pool's, for this server only: not the runs'
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = RunRequest.from_json(line)
        except (ValueError, TypeError, KeyError) as err:
            print(f"readtrack: a request the worker cannot read: {err}", file=sys.stderr)
            request_ended(token, 2)
            continue
        preload(request)
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # what the server holds (torch: ~186,000 objects) out of the child's collections' sight
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _in_child(request)
            finally:
                os._exit(code & 0xFF if code >= 0 else 1)
        _, status = os.waitpid(pid, 0)
        request_ended(token, os.waitstatus_to_exitcode(status))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"] and len(argv) == 2:
        request = RunRequest.from_json(argv[1])
        return run_request(request, events_stream())
    if argv:
        print("usage: python -m readtrack.batch.forkserver [--one REQUEST]", file=sys.stderr)
        return 2
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
