"""`janus`: real media relays on this machine, one Janus process per node (Debian `janus`).

Every node gets its own config folder under RELAY_DATA_DIR/<webinar>/ and a block of
loopback ports leased from the PortLease table (events.models). The cascade is plain RTP:
  studio (GStreamer test source) -> origin [VideoRoom remote publisher + rtp_forward]
  -> relay [same] -> edge [Streaming RTP mountpoint]
Origins and relays get their room and remote publisher once, when the node starts (Janus
1.1.2 never frees a remote publisher's ports before exit, so a port is used once per
process); `wire` only adds and stops forwarders, so re-wiring is cheap and repeatable.

Health: `GET /janus/info` (answers, both plugins loaded); origins and relays must hold
their remote publisher; a wired edge must receive media: the mountpoint's newest-packet
age (`age_ms`) is read twice, `read_gap` (0.4 s) apart; the second read must be under
RELAY_MEDIA_FRESH_MS and must not have grown by half the gap (an unfed mountpoint's age
counts up from its creation, so one small read proves nothing).

Scale-down: a laptop or CI box cannot run a 1M plan's 1,074 relays, so `local_scale` runs
one process per up to RELAY_JANUS_NODES_PER_PROCESS planned nodes of a region and role
(at least one, so every region and role keeps running), raising that factor until at most
RELAY_JANUS_MAX_PROCESSES processes remain. Plans that fit under the cap run in full.

Drain has no viewer routing to stop here: it marks the node draining (describe shows it)
and media keeps flowing until terminate. No cloud API is involved, so no rate limit either.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from events.models import JanusProcess, PortLease
from events.providers import janus_api as api
from events.providers import janus_proc as proc
from events.providers.base import (
    Cascade,
    GroupScale,
    Health,
    Node,
    NodeSpec,
    NodeState,
    ProviderError,
    RelayProvider,
    Resource,
    Role,
    ScaledPlan,
    UnknownNode,
    WireResult,
    plan_groups,
    register,
    scaled_counts,
)
from events.providers.janus_api import STREAMING, Handle, JanusClient, JanusError
from webinars.sizing import ClusterPlan

FEEDS = (Role.ORIGIN, Role.RELAY)  # roles that take RTP in and forward it


def local_scale(
    plan: ClusterPlan | Mapping[str, Any], *, nodes_per_process: int, max_processes: int
) -> ScaledPlan:
    groups = plan_groups(plan)
    planned = sum(n for _r, _role, n in groups)
    if planned <= max_processes:
        return ScaledPlan(tuple(GroupScale(r, role, n, n) for r, role, n in groups))
    factor = nodes_per_process
    while sum(scaled_counts(groups, factor)) > max_processes and factor < planned:
        factor += 1
    counts = scaled_counts(groups, factor)
    note = (
        f"Local Janus relays: the {planned:,} planned nodes run as {sum(counts)} processes "
        f"on this machine, one per up to {factor} planned nodes of a region and role."
    )
    scaled = tuple(
        GroupScale(r, role, n, a) for (r, role, n), a in zip(groups, counts, strict=True)
    )
    return ScaledPlan(scaled, factor=factor, note=note)


@register("janus")
class JanusProvider(RelayProvider):
    """Calls must come from outside a database transaction (they start processes and hold
    row locks while doing so); a caller's rollback could not stop a started process."""

    slow_boot_s = 15.0  # a local process and its first media

    def __init__(self, *, data_dir: Path | None = None, read_gap: float = 0.4) -> None:
        self.data_dir = Path(data_dir or settings.RELAY_DATA_DIR)
        self.binary = settings.RELAY_JANUS_BINARY
        self.first_port, self.blocks = proc.port_blocks(settings.RELAY_JANUS_PORTS)
        self.fresh_ms = settings.RELAY_MEDIA_FRESH_MS
        self.read_gap = read_gap

    # --- paths and views -------------------------------------------------------------

    def webinar_dir(self, webinar_code: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", webinar_code):
            raise ValueError(f"not a webinar code: {webinar_code!r}")
        return self.data_dir / webinar_code

    def _ports(self, row: JanusProcess) -> proc.Ports | None:
        lease = PortLease.objects.filter(process=row).first()
        return proc.Ports(self.first_port + lease.block * proc.BLOCK) if lease else None

    def _alive(self, row: JanusProcess) -> bool:
        return proc.alive(row.pid, f"{row.folder}/etc/janus.jcfg")

    def _node(self, row: JanusProcess, ports: proc.Ports | None = None) -> Node:
        state, reason = NodeState(row.state), row.reason
        if state in (NodeState.RUNNING, NodeState.DRAINING) and not self._alive(row):
            state, reason = NodeState.FAILED, "the Janus process is not running"
        ports = ports or self._ports(row)
        detail: dict[str, Any] = {"pid": row.pid, "folder": row.folder}
        if ports:
            detail |= {"http_port": ports.http, "ingest_port": ports.ingest}
            detail |= {"video_port": ports.video, "audio_port": ports.audio}
        return Node(
            request_key=row.request_key,
            webinar_code=row.webinar_code,
            region=row.region,
            role=Role(row.role),
            state=state,
            provider_id=f"pid:{row.pid}" if row.pid else "",
            address=f"http://127.0.0.1:{ports.http}/janus" if ports else "",
            reason=reason,
            detail=detail,
        )

    def _client(self, ports: proc.Ports, timeout: float = 2.0) -> JanusClient:
        return JanusClient(f"http://127.0.0.1:{ports.http}/janus", timeout=timeout)

    # --- create ------------------------------------------------------------------------

    def create_nodes(self, specs: Sequence[NodeSpec]) -> list[Node]:
        return [self._node(self._create_one(spec)) for spec in specs]

    def _create_one(self, spec: NodeSpec) -> JanusProcess:
        digest = hashlib.sha256(spec.request_key.encode()).hexdigest()[:12]
        folder = self.webinar_dir(spec.webinar_code) / f"{spec.role}-{spec.region}-{digest}"
        with transaction.atomic():
            row, created = JanusProcess.objects.get_or_create(
                request_key=spec.request_key,
                defaults={
                    "webinar_code": spec.webinar_code,
                    "region": spec.region,
                    "role": spec.role,
                    "folder": str(folder),
                    "secret": secrets.token_hex(12),
                },
            )
            row = JanusProcess.objects.select_for_update().get(pk=row.pk)
            wanted = (spec.webinar_code, spec.region, spec.role)
            if (row.webinar_code, row.region, row.role) != wanted:
                raise ProviderError(f"request key {spec.request_key!r} names another node")
            if created:  # the row commits with the outcome; a crash rolls both back
                self._start(row)
            return row

    def _start(self, row: JanusProcess) -> None:
        folder = Path(row.folder)
        for stray in proc.find_processes(f"{folder}/"):  # a crashed earlier attempt's
            proc.stop(stray, f"{folder}/")
        error = ""
        for _attempt in range(3):  # a port taken between our check and Janus's bind: retry
            proc.remove_folder(folder)
            try:
                ports = self._lease(row)
            except ProviderError as exc:
                error = str(exc)
                break
            try:
                config = proc.write_config(
                    folder, ports, name=row.request_key[:60], admin_secret=secrets.token_hex(12)
                )
                row.pid = proc.spawn_janus(self.binary, folder, config)
                self._provision(row, ports)
            except ProviderError as exc:
                error = str(exc)
                proc.stop(row.pid, f"{folder}/")
                PortLease.objects.filter(process=row).delete()
                row.pid = None
                continue
            row.state, row.reason = JanusProcess.State.RUNNING, ""
            row.save()
            return
        row.state, row.reason = JanusProcess.State.FAILED, error[:500]
        row.save()

    def _lease(self, row: JanusProcess) -> proc.Ports:
        taken = set(PortLease.objects.values_list("block", flat=True))
        candidates = [b for b in range(self.blocks) if b not in taken]
        random.shuffle(candidates)  # concurrent starters rarely want the same block
        for block in candidates[:100]:
            ports = proc.Ports(self.first_port + block * proc.BLOCK)
            if not proc.ports_free(ports):
                continue
            try:
                with transaction.atomic():
                    PortLease.objects.create(block=block, process=row)
            except IntegrityError:
                continue
            return ports
        raise ProviderError("no free block of loopback ports for another Janus process")

    def _provision(self, row: JanusProcess, ports: proc.Ports) -> None:
        client = self._client(ports, timeout=2.0)
        try:
            api.await_info(client)
            if row.role in FEEDS:
                api.create_feed(
                    client, secret=row.secret, port=ports.ingest, rtcp_port=ports.ingest_rtcp
                )
            else:
                api.create_mountpoint(
                    client,
                    name=row.request_key[:60],
                    secret=row.secret,
                    video=ports.video,
                    audio=ports.audio,
                )
        finally:
            client.close()

    # --- describe and health -------------------------------------------------------------

    def describe(self, webinar_code: str) -> list[Node]:
        rows = JanusProcess.objects.filter(webinar_code=webinar_code).exclude(
            state=JanusProcess.State.TERMINATED
        )
        return [self._node(row) for row in rows]

    def health(self, node: Node) -> Health:
        return self.health_many([node])[node.request_key]

    def health_many(self, nodes: Sequence[Node]) -> dict[str, Health]:
        rows = JanusProcess.objects.in_bulk(
            [n.request_key for n in nodes], field_name="request_key"
        )
        results: dict[str, Health] = {}
        first_reads: dict[str, tuple[Handle, str, int]] = {}
        with ExitStack() as stack:
            for node in nodes:
                row = rows.get(node.request_key)
                if row is None or row.state == JanusProcess.State.TERMINATED:
                    results[node.request_key] = Health(False, "no such running node")
                    continue
                ports = self._ports(row)
                if ports is None or not self._alive(row):
                    results[node.request_key] = Health(False, "the Janus process is not running")
                    continue
                client = self._client(ports, timeout=1.0)
                stack.callback(client.close)
                try:
                    api.check_engine(client, feed=row.role in FEEDS)
                    if row.role not in FEEDS and row.parent_key:
                        handle = stack.enter_context(client.plugin(STREAMING))
                        first_reads[row.request_key] = (
                            handle,
                            row.secret,
                            api.media_age(handle, row.secret),
                        )
                    else:
                        results[node.request_key] = Health(True)
                except JanusError as exc:
                    results[node.request_key] = Health(False, str(exc))
            if first_reads:
                time.sleep(self.read_gap)
            for key, (handle, secret, first) in first_reads.items():
                try:
                    second = api.media_age(handle, secret)
                except JanusError as exc:
                    results[key] = Health(False, str(exc))
                    continue
                fresh = second <= self.fresh_ms and second - first < self.read_gap * 500
                reason = "" if fresh else f"media stale: newest packet {second} ms old"
                results[key] = Health(fresh, reason, media_age_ms=second)
        return results

    # --- wire --------------------------------------------------------------------------

    def wire(self, cascade: Cascade) -> WireResult:
        code = cascade.webinar_code
        with transaction.atomic():
            lock = int(hashlib.sha256(f"janus-wire:{code}".encode()).hexdigest()[:15], 16)
            with connection.cursor() as cursor:  # one wiring of a webinar at a time
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
            rows = {
                r.request_key: r
                for r in JanusProcess.objects.select_for_update()
                .filter(webinar_code=code)
                .exclude(state=JanusProcess.State.TERMINATED)
            }
            named = set(cascade.parents) | {p for p in cascade.parents.values() if p}
            if named - set(rows):
                raise UnknownNode(f"not nodes of {code}: {sorted(named - set(rows))}")
            for child, parent in cascade.parents.items():
                feeder = rows[parent] if parent else None
                if feeder is not None and feeder.role not in FEEDS:
                    raise ProviderError(f"{parent} is an {feeder.role}: it forwards nothing")
                if feeder is None and rows[child].role not in FEEDS:
                    raise ProviderError(f"{child} is an {rows[child].role}: no studio feed")
            ports = {key: self._ports(row) for key, row in rows.items()}
            added = removed = 0
            unreachable = []
            for key, row in rows.items():
                children = cascade.children(key)
                if row.role not in FEEDS:
                    continue
                if ports[key] is None or not self._alive(row):
                    if children:
                        unreachable.append(key)
                    continue
                targets = {t for c in children for t in self._targets(rows[c], ports[c])}
                client = self._client(ports[key])  # type: ignore[arg-type]
                try:
                    a, r = api.set_forwards(client, secret=row.secret, targets=targets)
                except JanusError:
                    unreachable.append(key)
                    continue
                finally:
                    client.close()
                added, removed = added + a, removed + r
            for key, row in rows.items():
                row.parent_key = cascade.parents.get(key) or ""
                row.fed_by_studio = key in cascade.parents and cascade.parents[key] is None
                row.save(update_fields=["parent_key", "fed_by_studio", "updated_at"])
            studio_ports = sorted(
                ports[k].ingest  # type: ignore[union-attr]
                for k, r in rows.items()
                if r.fed_by_studio and ports[k] and self._alive(r)
            )
            proc.ensure_studio(
                self.webinar_dir(code), studio_ports, enabled=settings.RELAY_JANUS_TEST_STUDIO
            )
        return WireResult(added, removed, tuple(sorted(unreachable)))

    @staticmethod
    def _targets(child: JanusProcess, ports: proc.Ports | None) -> list[tuple[int, str]]:
        if ports is None:
            return []
        if child.role in FEEDS:
            return [(ports.ingest, "video"), (ports.ingest, "audio")]
        return [(ports.video, "video"), (ports.audio, "audio")]

    # --- drain, terminate, teardown, leaks ---------------------------------------------------

    def drain(self, node: Node) -> None:
        JanusProcess.objects.filter(
            request_key=node.request_key, state=JanusProcess.State.RUNNING
        ).update(state=JanusProcess.State.DRAINING)

    def terminate(self, node: Node) -> None:
        with transaction.atomic():
            row = (
                JanusProcess.objects.select_for_update()
                .filter(request_key=node.request_key)
                .first()
            )
            if row is None or row.state == JanusProcess.State.TERMINATED:
                return
            marker = f"{row.folder}/"
            for pid in {row.pid, *proc.find_processes(marker)} - {None}:
                if not proc.stop(pid, marker):
                    raise ProviderError(f"process {pid} of {row.request_key} does not stop")
            PortLease.objects.filter(process=row).delete()  # only now: the process is gone
            row.state, row.pid = JanusProcess.State.TERMINATED, None
            row.save()
            proc.remove_folder(Path(row.folder))

    def teardown(self, webinar_code: str) -> None:
        nodes = self.describe(webinar_code)
        for node in nodes:  # all stop in parallel; terminate then waits for each
            proc.nudge(node.detail.get("pid"), f"{node.detail['folder']}/")
        for node in nodes:
            self.terminate(node)
        folder = self.webinar_dir(webinar_code)
        proc.ensure_studio(folder, [], enabled=False)
        for stray in proc.find_processes(f"{folder}/"):
            proc.stop(stray, f"{folder}/", group=True)
        proc.remove_folder(folder)

    def list_resources(self, webinar_code: str) -> list[Resource]:
        found = [
            Resource("process", n.request_key, n.region, n.state)
            for n in self.describe(webinar_code)
        ]
        leases = PortLease.objects.filter(process__webinar_code=webinar_code)
        found += [Resource("port-lease", str(lease.block)) for lease in leases]
        folder = self.webinar_dir(webinar_code)
        found += [Resource("os-process", str(pid)) for pid in proc.find_processes(f"{folder}/")]
        if folder.exists():
            found.append(Resource("folder", str(folder)))
        return found

    def scale(self, plan: ClusterPlan | Mapping[str, Any]) -> ScaledPlan:
        return local_scale(
            plan,
            nodes_per_process=settings.RELAY_JANUS_NODES_PER_PROCESS,
            max_processes=settings.RELAY_JANUS_MAX_PROCESSES,
        )
