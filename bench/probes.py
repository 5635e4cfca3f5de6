"""What a measured run cost, read from the servers' own counters around it.

Redis (`INFO`, one call per snapshot, on a connection of the bench's own):

- `commandstats` counts every command Redis executed, *including* those a Lua script ran
  (`redis.call('GET', …)` inside an EVALSHA adds one `get` call), so its sum is the work
  Redis did, not what the app sent;
- `total_reads_processed` counts the requests Redis read from its clients: without
  pipelining, one per command sent (one per round trip). The baseline sends no script, so in
  the same run its two figures must agree, which checks the second one.

`redis_commands_per_turn` is the second (what the app sent, the issue's target), and
`redis_calls_per_turn` the first, with its breakdown by command.

Processes: the CPU time (user + system) of a server process and all its descendants
(uvicorn's supervisor and its workers), from psutil, and of the load generator (wrk, a child
of this process) from `getrusage(RUSAGE_CHILDREN)`.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

import psutil
import redis


@dataclass(frozen=True, slots=True)
class RedisCounters:
    reads: int
    calls: dict[str, int]
    cpu_s: float


@dataclass(frozen=True, slots=True)
class CpuCounters:
    by_pid: dict[int, float]  # seconds of CPU per process of the tree
    children_s: float  # this process's waited-for children (wrk)


class RedisProbe:
    """Snapshots of one Redis server's counters (its own INFO)."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5)

    def snapshot(self) -> RedisCounters:
        info = self.client.info("all")
        calls = {
            name.removeprefix("cmdstat_"): int(stats["calls"])
            for name, stats in info.items()
            if name.startswith("cmdstat_")
        }
        cpu = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return RedisCounters(reads=int(info["total_reads_processed"]), calls=calls, cpu_s=cpu)

    def close(self) -> None:
        self.client.close()


def redis_cost(before: RedisCounters, after: RedisCounters, turns: int) -> dict[str, object]:
    """Per turn: commands sent, commands executed (scripts' included, by command), Redis CPU."""
    if turns <= 0:
        return {}
    # The INFO that took `after` is one read and one `info` call of the bench's own.
    sent = after.reads - before.reads - 1
    executed = {
        name: count - before.calls.get(name, 0)
        for name, count in after.calls.items()
        if name != "info" and count - before.calls.get(name, 0) > 0
    }
    return {
        "redis_commands_per_turn": round(sent / turns, 2),
        "redis_calls_per_turn": round(sum(executed.values()) / turns, 2),
        "redis_calls_by_command": {
            name: round(count / turns, 3) for name, count in sorted(executed.items())
        },
        "redis_cpu_ms_per_turn": round((after.cpu_s - before.cpu_s) * 1000 / turns, 4),
    }


def cpu_snapshot(pid: int) -> CpuCounters:
    """CPU seconds of `pid` and every descendant alive now, and of our waited-for children."""
    by_pid: dict[int, float] = {}
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            by_pid[proc.pid] = times.user + times.system
    except psutil.NoSuchProcess:
        pass
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuCounters(by_pid=by_pid, children_s=usage.ru_utime + usage.ru_stime)


def cpu_cost(before: CpuCounters, after: CpuCounters, turns: int) -> dict[str, object]:
    """Per turn: the server tree's CPU (a process born during the run counts whole) and wrk's."""
    if turns <= 0:
        return {}
    server_s = sum(t - before.by_pid.get(pid, 0.0) for pid, t in after.by_pid.items())
    return {
        "cpu_ms_per_turn": round(server_s * 1000 / turns, 4),
        "loadgen_cpu_ms_per_turn": round((after.children_s - before.children_s) * 1000 / turns, 4),
        "server_processes": len(after.by_pid),
    }
