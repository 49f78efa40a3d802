"""What `wandb sync` sends to W&B, recorded by a local stand-in for W&B's server (the real one cannot be reached
from tests). It answers the few calls a sync makes (run resume status, run upsert, run files, the file stream)
the way W&B's server does, keeping a run's history lines where the file stream says they go, so a test sees
whether a later upload appends to a run or writes over it."""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Recording:
    runs: set[str] = field(default_factory=set)  # entity/project/run of every file stream
    history: list[dict] = field(default_factory=list)  # the run's history lines as the server holds them
    history_lines_sent: int = 0
    operations: list[str] = field(default_factory=list)
    output: str = ""  # what `wandb sync` printed


def _handler(recording: Recording, lock: threading.Lock, validated: Path | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self) -> None:  # uploads of run files (config, summary, logs)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._reply({})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                self._reply(self._answer(self.path, json.loads(raw) if raw.startswith(b"{") else {}))

        def _answer(self, path: str, body: dict) -> dict:
            if path.endswith("/file_stream"):
                recording.runs.add(path.removeprefix("/files/").removesuffix("/file_stream"))
                chunk = (body.get("files") or {}).get("wandb-history.jsonl")
                if chunk:
                    offset, lines = chunk["offset"], [json.loads(line) for line in chunk["content"]]
                    recording.history[offset : offset + len(lines)] = lines
                    recording.history_lines_sent += len(lines)
                    if validated is not None and any("val/loss" in line for line in lines):
                        validated.touch()
                return {"exitcode": None, "limits": {}}
            query, variables = body.get("query", ""), body.get("variables") or {}
            recording.operations.append(body.get("operationName") or "")
            entity = {"id": "e1", "name": "entity"}
            project = {"id": "p1", "name": variables.get("project") or "genlab", "entity": entity}
            run = {
                "id": "r1",
                "name": variables.get("name") or "run",
                "displayName": "run",
                "description": "",
                "config": "{}",
                "sweepName": None,
                "historyLineCount": len(recording.history),
                "project": project,
            }
            if "upsertBucket" in query:
                return {"data": {"upsertBucket": {"bucket": run, "inserted": not recording.history}}}
            if "RunResumeStatus" in query:
                last = recording.history[-1] if recording.history else None
                bucket = last and {
                    **run,
                    "summaryMetrics": json.dumps(last),
                    "logLineCount": 0,
                    "eventsLineCount": 0,
                    "historyTail": json.dumps([json.dumps(last)]),
                    "eventsTail": "[]",
                    "tags": [],
                    "wandbConfig": "{}",
                }
                return {"data": {"model": {**project, "bucket": bucket}}}
            if "createRunFiles" in query:
                files = [
                    {"name": name, "uploadUrl": f"http://127.0.0.1:{self.server.server_port}/upload/{name}"}
                    for name in variables.get("files", [])
                ]
                return {"data": {"createRunFiles": {"runID": "r1", "uploadHeaders": [], "files": files}}}
            return {"data": {}}

    return Handler


@contextmanager
def recording_server(validated: Path | None = None) -> Iterator[tuple[dict[str, str], Recording]]:
    """The stand-in server, running: the environment that points W&B at it, and what it receives. It creates the
    file ``validated`` once a history line with a validation loss has arrived."""
    recording, lock = Recording(), threading.Lock()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recording, lock, validated))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "WANDB_BASE_URL": f"http://127.0.0.1:{server.server_port}",
        "WANDB_API_KEY": "0" * 40,
        "WANDB_MODE": "online",
    }
    env.pop("WANDB_SERVICE", None)
    env.pop("WANDB_SILENT", None)
    try:
        yield env, recording
    finally:
        server.shutdown()


def wandb_sync(paths: list[Path]) -> Recording:
    """Runs `wandb sync --yes PATHS` against the stand-in server and returns what it received."""
    with recording_server() as (env, recording):
        result = subprocess.run(
            [str(Path(sys.executable).with_name("wandb")), "sync", "--yes", *map(str, paths)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        recording.output = result.stdout + result.stderr
        assert result.returncode == 0, recording.output[-4000:]
    return recording
