"""The C enumerator over several processes or machines: states partitioned by hash, one Ray actor
per partition (`mkverify check --ray [ADDRESS]`, docs/distributed.md).

Each actor holds an `_explore.Partition`: that partition's visited set, parent links and findings, in
C. The driver here runs the threaded engine's layer loop (_explore.c, py_explore) as calls:

    expand(chunk)        every partition: phase A on its next chunk of the layer; one stream of
                         successors per destination partition, each its own object in Ray's store
    widen(pairs)         when a value outgrew its slot anywhere: every partition widens the layout the
                         same way, and the chunk is expanded again
    absorb(budget, ..)   every partition: phase B on the streams addressed to it, in partition order;
                         the streams go from actor to actor, not through the driver
    end_layer()          the global barrier: each partition's new states' parent keys; the driver ranks
    next_layer(ranks)    them over all partitions (rank_layer's order), so the parent kept for a state
                         and the finding kept among equally short ones are those of every other -j

so the states, transitions, depth, findings and traces are those of the threaded engine with any
number of threads. Traces are rebuilt by walking parent links partition by partition (parents()),
then replayed and rendered by NativeExplorer like any other.

A partition whose actor dies ends the run as incomplete (stop "lost"), with the statistics of the
last barrier every partition passed; no verdict of ok can come out of a run that lost states.

The same driver runs the partitions in this process (`Local`): the tests use it to check the
protocol without a Ray runtime, and it is the 1-process baseline of benchmarks/distributed.py.
"""
from __future__ import annotations

import os
import time
from array import array

from ..diag import SourceLoc, UsageError
from .native import NativeExplorer, default_jobs

#: states a partition expands per round: big enough that a round's work hides Ray's ~1 ms per call
DEFAULT_CHUNK = 65536
ROOT = (1 << 64) - 1


class Lost(Exception):
    """A partition's process died."""

    def __init__(self, index: int, cause: BaseException):
        super().__init__(f"partition {index}: {cause}")
        self.index = index


# ---------------------------------------------------------------------------- the layer keys on the wire

def _planes(a, dtype) -> bytes:
    """An array of small non-negative numbers as zlib-compressed byte planes (all low bytes, then all
    next bytes, ...): the high planes of small numbers are runs of zeros, which compress to nothing."""
    import numpy as np
    import zlib
    b = np.ascontiguousarray(a, dtype=dtype).view(np.uint8).reshape(-1, np.dtype(dtype).itemsize)
    return zlib.compress(np.ascontiguousarray(b.T).tobytes(), 1)


def _unplanes(blob: bytes, dtype, n: int):
    import numpy as np
    import zlib
    size = np.dtype(dtype).itemsize
    raw = np.frombuffer(zlib.decompress(blob), dtype=np.uint8)
    if raw.size != n * size:
        raise ValueError("a layer's keys or ranks do not have the length announced")
    return np.ascontiguousarray(raw.reshape(size, n).T).view(dtype).reshape(n)


def pack_keys(keys):
    """A partition's new states' parent keys (ORD_STEP: source rank << 16 | label), sorted: the sources'
    differences and the labels, as byte planes (about 3 bytes a state instead of 8)."""
    import numpy as np
    src = keys >> np.uint64(16)
    return len(keys), _planes(np.diff(src, prepend=np.uint64(0)), np.uint64), \
        _planes(keys & np.uint64(0xffff), np.uint16)


def unpack_keys(packed):
    import numpy as np
    n, dsrc, labels = packed
    src = np.cumsum(_unplanes(dsrc, np.uint64, n), dtype=np.uint64)
    return (src << np.uint64(16)) | _unplanes(labels, np.uint16, n).astype(np.uint64)


def rank_layer(packed: list) -> list:
    """rank_layer of _explore.c over all partitions: each partition's sorted keys' places among all
    (keys are unique: one state per source and label), as differences in byte planes."""
    import numpy as np
    arrays = [unpack_keys(p) for p in packed]
    allk = np.concatenate(arrays) if arrays else np.zeros(0, np.uint64)
    ranks = np.empty(len(allk), dtype=np.uint64)
    ranks[np.argsort(allk, kind="stable")] = np.arange(len(allk), dtype=np.uint64)
    out, at = [], 0
    for a in arrays:
        r = ranks[at:at + len(a)]  # increasing: a's keys are sorted
        out.append((len(a), _planes(np.diff(r, prepend=np.uint64(0)), np.uint64)))
        at += len(a)
    return out


# ---------------------------------------------------------------------------- one partition

class Host:
    """An _explore.Partition and what crosses to and from it: the body of a partition's Ray actor, and
    what the in-process backend holds."""

    def __init__(self, *args, **kw):
        from mkverify.engines.native import _extension as ext
        self.p = ext().Partition(*args, **kw)
        self.order = None

    def __getattr__(self, name):  # the Partition's own methods (live, widen, parents, result, ...)
        p = self.__dict__.get("p")
        if p is None:  # not built yet (copy, pickle)
            raise AttributeError(name)
        return getattr(p, name)

    def call(self, method, *args):
        """A method of the Host, else of its Partition: what the driver calls by name over Ray."""
        return getattr(self, method)(*args)

    def end_layer(self):
        import numpy as np
        live, keys = self.p.end_layer()
        if keys is None:
            return live, None
        k = np.frombuffer(keys, dtype=np.uint64)
        self.order = np.argsort(k, kind="stable")
        return live, pack_keys(k[self.order])

    def next_layer(self, layer, packed):
        import numpy as np
        ranks = None
        if packed is not None:
            r = np.empty(packed[0], dtype=np.uint64)
            r[self.order] = np.cumsum(_unplanes(packed[1], np.uint64, packed[0]), dtype=np.uint64)
            ranks = r.tobytes()
        self.order = None
        return self.p.next_layer(layer, ranks)

    def expand(self, chunk, begin=None):
        """(status, stream to partition 0, ..., to partition N-1); first, when a layer begins, next_layer"""
        t = time.perf_counter()
        if begin is not None:
            self.next_layer(*begin)
        status, streams = self.p.expand(chunk)
        status["busy"] = time.perf_counter() - t
        return (status, *streams)

    def absorb(self, budget, last, *streams):
        """absorb's status; at the end of a layer (last) with end_layer's answer under "end"."""
        t = time.perf_counter()
        status = self.p.absorb(budget, streams)
        if last:
            status["end"] = self.end_layer()
        status["busy"] = time.perf_counter() - t
        return status

    def pid(self):
        return os.getpid()


def _wire_size(packed) -> int:
    return sum(len(x) for x in packed[1:]) + 8


# ---------------------------------------------------------------------------- backends

class Local:
    """The partitions as objects in this process, called one after the other."""

    name = "local"

    def __init__(self, n: int, args: tuple, kw: dict):
        self.parts = [Host(*args, n, i, **kw) for i in range(n)]

    def call(self, method: str, *args) -> list:
        return [h.call(method, *args) for h in self.parts]

    def each(self, method: str, per_part: list) -> list:
        return [h.call(method, *a) for h, a in zip(self.parts, per_part)]

    def expand(self, chunk: int, begin: list) -> tuple[list, list]:
        out = [h.expand(chunk, b) for h, b in zip(self.parts, begin)]
        return [o[0] for o in out], [list(o[1:]) for o in out]

    def absorb(self, budgets: list, last: bool, streams: list) -> list:
        n = len(self.parts)
        return [h.absorb(budgets[q], last, *[streams[src][q] for src in range(n)])
                for q, h in enumerate(self.parts)]

    def __len__(self):
        return len(self.parts)

    def close(self):
        self.parts = []


def _ray():
    try:
        import ray
    except ImportError:
        raise UsageError(SourceLoc("<command line>"), "--ray needs Ray, which is not installed",
                         "pip install 'mkverify[distributed]'") from None
    return ray


def _reachable(address: str) -> None:
    """A HOST:PORT address must answer within 10 s (Ray itself retries for minutes)."""
    import socket
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return  # "auto", ray://...: Ray's own forms
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=10).close()
    except OSError as e:
        raise UsageError(SourceLoc("<command line>"), f"cannot join the Ray cluster at {address}: {e.strerror or e}",
                         "start one with `ray start --head` and pass the address it prints") from None


class RayCluster:
    """One actor per partition on a Ray cluster: a local one started here (address None), or the one at
    `address`, which must have mkverify installed on every node."""

    name = "ray"

    def __init__(self, n: int, args: tuple, kw: dict, address: str | None = None):
        ray = self.ray = _ray()
        self.started = False
        if not ray.is_initialized():
            import logging
            if address:
                _reachable(address)
            opts = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                        configure_logging=True)
            try:
                if address:
                    ray.init(address=address, **opts)
                else:  # logical CPUs: every partition gets an actor even with more partitions than cores
                    ray.init(num_cpus=max(n, os.cpu_count() or 1), **opts)
            except Exception as e:  # ConnectionError, ValueError, RuntimeError, ...: Ray's own words
                raise UsageError(SourceLoc("<command line>"),
                                 f"cannot {'join the Ray cluster at ' + address if address else 'start Ray'}: "
                                 f"{str(e).splitlines()[0] if str(e) else type(e).__name__}",
                                 "start one with `ray start --head` and pass the address it prints"
                                 if address else "see docs/distributed.md") from None
            self.started = True
        if not n:
            n = max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1, max_restarts=0, scheduling_strategy="SPREAD")(Host)
        self.actors = [actor.remote(*args, n, i, **kw) for i in range(n)]
        self.n = n
        self.get([a.pid.remote() for a in self.actors])  # every actor up, its Partition built

    def __len__(self):
        return self.n

    def get(self, refs: list) -> list:
        """ray.get, telling which partition a dead actor held."""
        from ray.exceptions import RayActorError
        out = []
        for i, r in enumerate(refs):
            try:
                out.append(self.ray.get(r))
            except RayActorError as e:
                raise Lost(i, e) from None
        return out

    def call(self, method: str, *args) -> list:
        return self.get([a.call.remote(method, *args) for a in self.actors])

    def each(self, method: str, per_part: list) -> list:
        return self.get([a.call.remote(method, *args) for a, args in zip(self.actors, per_part)])

    def expand(self, chunk: int, begin: list) -> tuple[list, list]:
        refs = [a.expand.options(num_returns=self.n + 1).remote(chunk, b) for a, b in zip(self.actors, begin)]
        return self.get([r[0] for r in refs]), [r[1:] for r in refs]

    def absorb(self, budgets: list, last: bool, streams: list) -> list:
        return self.get([a.absorb.remote(budgets[q], last, *[streams[src][q] for src in range(self.n)])
                         for q, a in enumerate(self.actors)])

    def close(self):
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:  # pragma: no cover - already gone
                pass
        self.actors = []
        if self.started:
            self.ray.shutdown()


# ---------------------------------------------------------------------------- the driver

class DistributedExplorer(NativeExplorer):
    """NativeExplorer with the exploration spread over `partitions` partitions (Ray actors, or objects
    in this process with backend "local"). on_barrier(layer, cluster) is called after every layer
    barrier (the fault tests kill an actor there)."""

    def __init__(self, program, partitions: int = 2, address: str | None = None, backend: str = "ray",
                 chunk: int = DEFAULT_CHUNK, on_barrier=None, **kw):
        super().__init__(program, **kw)
        if not 0 <= partitions <= 4096:
            raise UsageError(SourceLoc("<command line>"), f"{partitions} partitions: give 1 to 4096",
                             "e.g. --partitions 4")
        self.partitions = partitions
        self.jobs = partitions
        self.address = address
        self.backend = backend
        self.chunk = chunk
        self.on_barrier = on_barrier
        self.comm: dict = {}

    def _cluster(self, widths: bytes, los: bytes):
        """The partitions, started; 0 partitions: a partition per CPU (of the Ray cluster, with an address)."""
        args = (self.low.img.tobytes(), widths, los)
        kw = dict(fingerprint=self.fingerprint, symmetry=self.symmetry, max_memory=self.max_memory)
        if not self.partitions and (self.backend == "local" or not self.address):
            self.partitions = default_jobs()
        cluster = Local(self.partitions, args, kw) if self.backend == "local" else \
            RayCluster(self.partitions, args, kw, self.address)
        self.partitions = self.jobs = len(cluster)
        return cluster

    def explore_raw(self, widths: bytes, los: bytes) -> dict:
        t0 = time.monotonic()
        cluster = self._cluster(widths, los)
        t_setup = time.monotonic() - t0
        n = self.partitions
        c = self.comm = {"partitions": n, "backend": cluster.name, "setup_seconds": t_setup, "stream_bytes": 0,
                         "key_bytes": 0, "streams": 0, "rounds": 0, "layers": 0, "barrier_seconds": 0.0,
                         "sync_seconds": 0.0}
        states = transitions = layer = relayouts = 0
        stop, stop_loc, error, lost = "", 0, None, ""
        oom = False
        last_progress = 0.0
        t0 = time.monotonic()
        try:
            live = sum(cluster.call("live"))
            per_part = [0] * n  # states held, after the last absorb
            begin = [None] * n  # (layer, ranks) the partitions start the next layer with, on their next expand
            while live and not stop and error is None and not oom:
                if self.max_depth and layer >= self.max_depth:
                    if any(begin):
                        cluster.each("next_layer", begin)
                    if any(cluster.call("any_enabled")):
                        stop = "depth"
                    break
                ends = None
                while True:  # the chunks of this layer
                    tr = time.monotonic()
                    statuses, streams = cluster.expand(self.chunk, begin)
                    begin = [None] * n
                    error = next((s["error"] for s in statuses if s["error"] is not None), None)
                    oom = any(s["oom"] for s in statuses)
                    if error is not None or oom:
                        break
                    over = [s["overflow"] for s in statuses if s["overflow"] is not None]
                    if over:
                        cluster.call("widen", over)
                        relayouts += 1
                        continue
                    c["rounds"] += 1
                    c["stream_bytes"] += sum(s["sent"] for s in statuses)
                    c["streams"] += sum(s["streams"] for s in statuses)
                    last = all(s["rest"] == 0 for s in statuses)
                    done = cluster.absorb(self._budgets(per_part), last, streams)
                    busy = max(s["busy"] + d["busy"] for s, d in zip(statuses, done))
                    c["sync_seconds"] += max(time.monotonic() - tr - busy, 0.0)
                    per_part = [d["states"] for d in done]
                    states, transitions = sum(per_part), sum(d["transitions"] for d in done)
                    oom = any(d["oom"] for d in done)
                    why = next((d for d in done if d["stop"]), None)
                    if why is not None:
                        stop, stop_loc = why["stop"], why["stop_loc"]
                    elif self.max_states and states >= self.max_states:
                        stop = "states"  # reached, as the threaded engine stops at it
                    if not stop and self.stop is not None and self.stop():
                        stop = "interrupted"
                    now = time.monotonic()
                    if self.progress is not None and now - last_progress > 0.5:
                        last_progress = now
                        self._show(states, transitions, layer, now - t0, sum(d["memory"] for d in done))
                    if last:
                        ends = [d["end"] for d in done]
                    if stop or oom or last:
                        break
                if error is not None or oom:
                    break
                tb = time.monotonic()
                if ends is None:  # the layer was cut short
                    ends = cluster.call("end_layer")
                newlive = sum(live for live, _ in ends)
                if newlive:
                    layer += 1
                if stop:  # the depth counts a layer cut short, as the threaded engine's does
                    break
                ranks = [None] * n
                if not self.fingerprint:
                    keys = [k for _, k in ends]
                    ranks = rank_layer(keys)
                    c["key_bytes"] += sum(_wire_size(k) for k in keys) + sum(_wire_size(r) for r in ranks)
                begin = [(layer, r) for r in ranks]
                live = newlive
                c["layers"] += 1
                c["barrier_seconds"] += time.monotonic() - tb
                if self.on_barrier is not None:
                    self.on_barrier(layer, cluster)
            seconds = time.monotonic() - t0
            parts = cluster.call("result")
            findings = self._findings(cluster, parts)
        except Lost as e:
            seconds = time.monotonic() - t0
            lost = (f"partition {e.index} of {n} was lost (its process died) at depth {layer}: the states it held "
                    f"and those it would have found are missing")
            cluster.close()
            return {"error": None, "states": states, "transitions": transitions, "depth": layer,
                    "seconds": seconds, "stop": "lost", "stop_loc": 0, "lost": lost, "memory": 0,
                    "state_bytes": 0, "jobs": n, "relayouts": relayouts, "findings": [], "coverage": [],
                    "exhausted": [], "witnessed": [], "widths": list(widths), "extra": self._extra(transitions)}
        finally:
            if not lost:
                cluster.close()
        if oom:
            raise MemoryError("the enumerator ran out of memory in a partition")
        return {"error": error, "states": sum(p["states"] for p in parts),
                "transitions": sum(p["transitions"] for p in parts), "depth": layer, "seconds": seconds,
                "stop": stop, "stop_loc": stop_loc, "memory": sum(p["memory"] for p in parts),
                "state_bytes": parts[0]["state_bytes"], "jobs": n, "relayouts": relayouts, "findings": findings,
                "coverage": sorted({tuple(x) for p in parts for x in p["coverage"]}),
                "exhausted": sorted({x for p in parts for x in p["exhausted"]}),
                "witnessed": sorted({x for p in parts for x in p["witnessed"]}),
                "widths": parts[0]["widths"], "extra": self._extra(sum(p["transitions"] for p in parts))}

    def _budgets(self, per_part: list) -> list:
        """The states each partition may hold after this round: what it holds plus all of the rest of
        max_states. A partition refuses a state only when the run as a whole has reached the bound, as
        in the threaded engine; the run may then hold up to (partitions - 1) x the rest more (docs)."""
        if not self.max_states:
            return [-1] * len(per_part)
        rest = max(self.max_states - sum(per_part), 0)
        return [held + rest for held in per_part]

    def _extra(self, transitions: int) -> dict:
        c = self.comm
        exchanged = c["stream_bytes"] + c["key_bytes"]
        c["exchanged_bytes"] = exchanged
        return {"partitions": self.partitions, "exchanged_bytes": exchanged,
                "exchanged_bytes_per_transition": round(exchanged / max(transitions, 1), 2)}

    def _show(self, states, transitions, depth, seconds, memory):
        c = self.comm
        per_state = (c["stream_bytes"] + c["key_bytes"]) / max(states, 1)
        try:
            self.progress(states, transitions, depth, seconds, exchanged=per_state, memory=memory)
        except TypeError:  # a progress callback that takes the four figures only
            self.progress(states, transitions, depth, seconds)

    def _findings(self, cluster, parts: list) -> list:
        """(key, length, path) per finding, as _explore.explore reports them: per key the shortest, then
        lowest (ord, gid, label) over all partitions (record() in _explore.c), its path rebuilt by
        walking parent links from partition to partition."""
        best: dict = {}
        for p in parts:
            for key, length, gid, label, ord_ in p["findings"]:
                cand = (length, ord_, gid, label)
                if key not in best or cand < best[key]:
                    best[key] = cand
        n = self.partitions
        paths = {key: ([label] if label >= 0 else []) for key, (_, _, _, label) in best.items()}
        at = {key: gid for key, (_, _, gid, _) in best.items()}
        while at:
            asks = [[] for _ in range(n)]
            for key, g in at.items():
                asks[g % n].append(key)
            answers = cluster.each("parents", [(array("Q", [at[k] for k in ks]).tobytes(),) for ks in asks])
            for ks, ans in zip(asks, answers):
                pairs = array("Q", ans)
                for j, key in enumerate(ks):
                    parent, label = pairs[2 * j], pairs[2 * j + 1]
                    if parent == ROOT:
                        del at[key]
                    else:
                        paths[key].append(label)
                        at[key] = parent
        return [(key, best[key][0], list(reversed(paths[key]))) for key in best]


def explore(program, partitions: int = 2, address: str | None = None, backend: str = "ray", chunk: int = DEFAULT_CHUNK,
            on_barrier=None, max_states: int = 0, depth: int = 0, progress=None, reduce_private: bool = True,
            fingerprint: bool = False, max_memory: int = 0, symmetry: bool = True, atomic: bool = True,
            stop=None):
    return DistributedExplorer(program, partitions, address, backend, chunk, on_barrier, max_states=max_states,
                               depth=depth, progress=progress, reduce_private=reduce_private,
                               fingerprint=fingerprint, max_memory=max_memory, symmetry=symmetry, atomic=atomic,
                               stop=stop).run()
