# ahl_ndjson: the stdout callback @ahl/l3-system runs ansible-playbook with.
# Contract: every line on stdout is one JSON object with an "event" key, keys sorted:
#   playbook_start {playbook}            play_start {play, check}
#   task_start {task, handler}           host_task {host, task, status, changed, diff?, msg?, ignored?}
#   stats {hosts: {HOST: {ok, changed, failures, unreachable, skipped, rescued, ignored}}}
# status is one of ok, changed, failed, unreachable, skipped. Lines are flushed as they happen, so
# the reader can show live per-host progress.
from __future__ import annotations

DOCUMENTATION = """
    name: ahl_ndjson
    type: stdout
    short_description: NDJSON events for ahl
    description:
      - One JSON object per line on stdout, for @ahl/l3-system's runner.
"""

import json
import sys

from ansible.plugins.callback import CallbackBase

MAX_TEXT = 4000


def _text(value):
    if value is None:
        return None
    s = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return s if len(s) <= MAX_TEXT else s[:MAX_TEXT] + "…"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "ahl_ndjson"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._check = False

    def _emit(self, event, **fields):
        fields["event"] = event
        sys.stdout.write(json.dumps(fields, sort_keys=True, default=str) + "\n")
        sys.stdout.flush()

    def _message(self, res):
        parts = []
        for key in ("msg", "stderr", "module_stderr", "module_stdout"):
            v = res.get(key)
            if v and isinstance(v, str) and v.strip() and v.strip() not in parts:
                parts.append(v.strip())
        if not parts and res.get("results"):
            for item in res["results"]:
                if isinstance(item, dict) and item.get("failed"):
                    m = self._message(item)
                    if m:
                        parts.append(m)
        return _text("\n".join(parts)) if parts else None

    def _diff(self, res):
        diffs = []
        if "diff" in res:
            diffs.append(res["diff"])
        for item in res.get("results") or []:
            if isinstance(item, dict) and item.get("changed") and "diff" in item:
                diffs.append(item["diff"])
        text = "".join(self._get_diff(d) for d in diffs if d)
        return _text(text) if text.strip() else None

    def _host_task(self, result, status, **extra):
        fields = {"host": result._host.get_name(), "task": result._task.get_name(), "status": status}
        fields.update({k: v for k, v in extra.items() if v is not None})
        self._emit("host_task", **fields)

    def v2_playbook_on_start(self, playbook):
        self._emit("playbook_start", playbook=playbook._file_name)

    def v2_playbook_on_play_start(self, play):
        self._check = bool(play.check_mode)
        self._emit("play_start", play=play.get_name(), check=self._check)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit("task_start", task=task.get_name(), handler=False)

    def v2_playbook_on_handler_task_start(self, task):
        self._emit("task_start", task=task.get_name(), handler=True)

    def v2_runner_on_ok(self, result):
        res = result._result
        changed = bool(res.get("changed"))
        self._host_task(result, "changed" if changed else "ok", diff=self._diff(res) if changed else None)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host_task(result, "failed", msg=self._message(result._result), ignored=True if ignore_errors else None)

    def v2_runner_on_unreachable(self, result):
        self._host_task(result, "unreachable", msg=self._message(result._result))

    def v2_runner_on_skipped(self, result):
        self._host_task(result, "skipped")

    def v2_playbook_on_no_hosts_matched(self):
        self._emit("no_hosts")

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for h in sorted(stats.processed.keys()):
            s = stats.summarize(h)
            hosts[h] = {k: s.get(k, 0) for k in ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")}
        self._emit("stats", hosts=hosts)
