"""`aws`: relay nodes as EC2 instances in Auto Scaling Groups, through boto3.

- One launch template per role and AWS region (`<prefix>-origin|relay|edge`; spares boot
  from the edge template), shared by all webinars: RELAY_AWS_IMAGE_ID and
  RELAY_AWS_INSTANCE_TYPES. The relay image's agent reads its own instance tags.
- One Auto Scaling Group per (webinar, region, role): `<prefix>-<webinar>-<region>-<role>`,
  tagged `relay:webinar`, `relay:region`, `relay:role` (propagated to its instances), in
  the zones of RELAY_AWS_SUBNETS (region -> "subnet-a,subnet-b") or the region's first
  three availability zones.
- Request keys: an ASG knows counts, not keys. Each group's keys are kept in a Redis
  ledger (aws_ledger.py) and the group's desired capacity is always their number, so a
  retried create adds no capacity; instances are bound to keys as they appear, and a key
  whose instance the group replaced takes the replacement.
- Scaling is `set_desired_capacity`; callers poll `describe` until the nodes are RUNNING
  (InService and Healthy). `wire` tags each child instance `relay:parent` with its
  parent's instance id ("studio" for origins), one CreateTags call per parent and region;
  `drain` tags `relay:state=draining`. Teardown scales each group to zero and deletes it.
- Health is the group's view (InService, Healthy); media freshness needs the engine's own
  endpoint and is not claimed here. What moto cannot emulate (pending states, quotas, boot
  failures) is covered by the simulated provider, not claimed for this one.
Every API call first takes a token from the ("aws", region) bucket (RELAY_AWS_API_RATE).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from events.providers.aws_ledger import KeyLedger
from events.providers.base import (
    Cascade,
    Health,
    Node,
    NodeSpec,
    NodeState,
    ProviderError,
    RateLimited,
    RelayProvider,
    Resource,
    Role,
    UnknownNode,
    WireResult,
    register,
)
from events.ratelimit import bucket_for, redis_client

TAG_WEBINAR, TAG_REGION, TAG_ROLE = "relay:webinar", "relay:region", "relay:role"
TAG_PARENT, TAG_STATE = "relay:parent", "relay:state"
LIVE_STATES = ["pending", "running", "stopping", "stopped"]  # held, i.e. a leak after teardown
THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded"}


class AwsError(ProviderError):
    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@register("aws")
class AwsProvider(RelayProvider):
    def __init__(self, *, endpoint_url: str | None = None) -> None:
        self.endpoint_url = endpoint_url or settings.RELAY_AWS_ENDPOINT_URL or None
        self.prefix = settings.RELAY_AWS_NAME_PREFIX
        self._session = boto3.session.Session()
        self._clients: dict[tuple[str, str], Any] = {}
        self._zones: dict[str, list[str]] = {}
        self._ledger = KeyLedger(redis_client())
        self._lock = threading.Lock()  # boto3 sessions are not thread-safe

    # --- plumbing --------------------------------------------------------------------

    def _aws_region(self, region: str) -> str:
        try:
            return settings.RELAY_AWS_REGIONS[region]
        except KeyError:
            raise ProviderError(
                f"region {region!r} has no AWS region (RELAY_AWS_REGIONS)"
            ) from None

    def _call(self, region: str, service: str, operation: str, **params: Any) -> Any:
        bucket_for(
            "aws", region, rate=settings.RELAY_AWS_API_RATE, burst=settings.RELAY_AWS_API_BURST
        ).take(max_wait=settings.RELAY_RATE_MAX_WAIT_S)
        with self._lock:
            if (service, region) not in self._clients:
                self._clients[service, region] = self._session.client(
                    service,
                    region_name=self._aws_region(region),
                    endpoint_url=self.endpoint_url,
                    config=Config(retries={"max_attempts": 3, "mode": "standard"}),
                )
        try:
            return getattr(self._clients[service, region], operation)(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in THROTTLED:
                raise RateLimited(f"aws:{region}", 1.0) from exc
            raise AwsError(f"{operation} in {region}: {exc}", code) from exc
        except BotoCoreError as exc:
            raise AwsError(f"{operation} in {region}: {exc}") from exc

    def _asg(self, region: str, operation: str, **params: Any) -> Any:
        return self._call(region, "autoscaling", operation, **params)

    def _ec2(self, region: str, operation: str, **params: Any) -> Any:
        return self._call(region, "ec2", operation, **params)

    def _group_name(self, code: str, region: str, role: str) -> str:
        return f"{self.prefix}-{code}-{region}-{role}"

    # --- templates and groups ------------------------------------------------------------

    def _ensure_template(self, region: str, role: str) -> str:
        name = f"{self.prefix}-{'edge' if role == Role.SPARE else role}"
        try:
            self._ec2(region, "describe_launch_templates", LaunchTemplateNames=[name])
            return name
        except AwsError as exc:
            if "NotFound" not in exc.code:
                raise
        if not settings.RELAY_AWS_IMAGE_ID:
            raise ProviderError("RELAY_AWS_IMAGE_ID is not set: no image to launch relays from")
        kind = settings.RELAY_AWS_INSTANCE_TYPES["edge" if role == Role.SPARE else role]
        data = {"ImageId": settings.RELAY_AWS_IMAGE_ID, "InstanceType": kind}
        try:
            self._ec2(
                region, "create_launch_template", LaunchTemplateName=name, LaunchTemplateData=data
            )
        except AwsError as exc:
            if "AlreadyExists" not in exc.code:  # else a concurrent creator won: fine
                raise
        return name

    def _placement(self, region: str) -> dict[str, Any]:
        subnets = settings.RELAY_AWS_SUBNETS.get(region)
        if subnets:
            return {"VPCZoneIdentifier": subnets}
        if region not in self._zones:
            zones = self._ec2(region, "describe_availability_zones")["AvailabilityZones"]
            self._zones[region] = sorted(z["ZoneName"] for z in zones)[:3]
        return {"AvailabilityZones": self._zones[region]}

    def _describe_group(self, region: str, name: str) -> dict[str, Any] | None:
        found = self._asg(region, "describe_auto_scaling_groups", AutoScalingGroupNames=[name])
        return found["AutoScalingGroups"][0] if found["AutoScalingGroups"] else None

    def _ensure_group(self, code: str, region: str, role: str) -> dict[str, Any]:
        name = self._group_name(code, region, role)
        group = self._describe_group(region, name)
        if group:
            return group
        template = self._ensure_template(region, role)
        tags = {TAG_WEBINAR: code, TAG_REGION: region, TAG_ROLE: role, "Name": name}
        try:
            self._asg(
                region,
                "create_auto_scaling_group",
                AutoScalingGroupName=name,
                LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
                MinSize=0,
                MaxSize=settings.RELAY_AWS_MAX_GROUP_SIZE,
                DesiredCapacity=0,
                Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in tags.items()],
                **self._placement(region),
            )
        except AwsError as exc:
            if "AlreadyExists" not in exc.code:
                raise
        return self._describe_group(region, name) or {"DesiredCapacity": 0, "Instances": []}

    # --- the interface -------------------------------------------------------------------

    def create_nodes(self, specs: Sequence[NodeSpec]) -> list[Node]:
        groups: dict[tuple[str, str, str], list[NodeSpec]] = {}
        for spec in specs:
            groups.setdefault((spec.webinar_code, spec.region, str(spec.role)), []).append(spec)
        for (code, region, role), group in groups.items():
            with self._ledger.locked(code, region, role):
                current = self._ensure_group(code, region, role)
                wanted = self._ledger.add(code, region, role, [s.request_key for s in group])
                if current["DesiredCapacity"] != wanted:
                    self._scale(code, region, role, wanted)
        seen = {
            n.request_key: n for code in {c for c, _r, _o in groups} for n in self.describe(code)
        }
        return [seen[s.request_key] for s in specs if s.request_key in seen]

    def _scale(self, code: str, region: str, role: str, desired: int) -> None:
        self._asg(
            region,
            "set_desired_capacity",
            AutoScalingGroupName=self._group_name(code, region, role),
            DesiredCapacity=desired,
            HonorCooldown=False,
        )

    def describe(self, webinar_code: str) -> list[Node]:
        draining = self._ledger.draining(webinar_code)
        nodes = []
        for region, role in self._ledger.groups(webinar_code):
            with self._ledger.locked(webinar_code, region, role):
                group = self._describe_group(region, self._group_name(webinar_code, region, role))
                instances = {i["InstanceId"]: i for i in (group or {}).get("Instances", [])}
                bound = self._ledger.bind(webinar_code, region, role, instances)
            for key, instance_id in sorted(bound.items()):
                instance = instances.get(instance_id) if instance_id else None
                state, reason = self._state(instance)
                if state == NodeState.RUNNING and key in draining:
                    state = NodeState.DRAINING
                nodes.append(
                    Node(
                        request_key=key,
                        webinar_code=webinar_code,
                        region=region,
                        role=Role(role),
                        state=state,
                        provider_id=instance_id,
                        reason=reason,
                        detail={"zone": instance["AvailabilityZone"]} if instance else {},
                    )
                )
        return sorted(nodes, key=lambda n: n.request_key)

    @staticmethod
    def _state(instance: dict[str, Any] | None) -> tuple[NodeState, str]:
        if instance is None:
            return NodeState.PENDING, ""
        lifecycle, health = instance["LifecycleState"], instance.get("HealthStatus", "")
        if lifecycle.startswith("Pending"):
            return NodeState.PENDING, ""
        if lifecycle == "InService":
            if health == "Healthy":
                return NodeState.RUNNING, ""
            return NodeState.FAILED, f"instance health {health}"
        if lifecycle in ("Standby", "EnteringStandby"):
            return NodeState.DRAINING, ""
        return NodeState.FAILED, f"instance {lifecycle}"

    def health(self, node: Node) -> Health:
        return self.health_many([node])[node.request_key]

    def health_many(self, nodes: Sequence[Node]) -> dict[str, Health]:
        results = {
            n.request_key: Health(False, "not launched yet") for n in nodes if not n.provider_id
        }
        by_region: dict[str, list[Node]] = {}
        for node in nodes:
            if node.provider_id:
                by_region.setdefault(node.region, []).append(node)
        for region, group in by_region.items():
            seen: dict[str, dict[str, Any]] = {}
            for start in range(0, len(group), 50):  # the API takes 50 ids at most
                ids = [n.provider_id for n in group[start : start + 50]]
                answer = self._asg(region, "describe_auto_scaling_instances", InstanceIds=ids)
                seen |= {i["InstanceId"]: i for i in answer["AutoScalingInstances"]}
            for node in group:
                state, reason = self._state(
                    seen.get(node.provider_id) or {"LifecycleState": "gone"}
                )
                ok = state in (NodeState.RUNNING, NodeState.DRAINING)
                results[node.request_key] = Health(ok, "" if ok else reason)
        return results

    def wire(self, cascade: Cascade) -> WireResult:
        code = cascade.webinar_code
        nodes = {n.request_key: n for n in self.describe(code)}
        named = set(cascade.parents) | {p for p in cascade.parents.values() if p}
        if named - set(nodes):
            raise UnknownNode(f"not nodes of {code}: {sorted(named - set(nodes))}")
        before = self._ledger.parents(code)  # child key -> relay:parent value given
        groups: dict[tuple[str, str], list[str]] = {}
        told: dict[str, str] = {}
        untold = []
        for child, parent in cascade.parents.items():
            value = nodes[parent].provider_id if parent else "studio"
            if before.get(child) == value:
                continue
            if not value or not nodes[child].provider_id:
                untold.append(child)  # not launched yet: wire again once it is
                continue
            groups.setdefault((nodes[child].region, value), []).append(child)
            told[child] = value
        for (region, value), children in sorted(groups.items()):
            ids = [nodes[c].provider_id for c in children]
            self._ec2(
                region,
                "create_tags",
                Resources=ids,
                Tags=[{"Key": TAG_PARENT, "Value": value}],
            )
        dropped = [k for k in before if k not in cascade.parents]
        for key in dropped:
            node = nodes.get(key)
            if node and node.provider_id:
                self._ec2(
                    node.region,
                    "delete_tags",
                    Resources=[node.provider_id],
                    Tags=[{"Key": TAG_PARENT}],
                )
        self._ledger.set_parents(code, told, dropped)
        changed = sum(1 for k in told if before.get(k))
        return WireResult(len(told), changed + len(dropped), tuple(sorted(untold)))

    def drain(self, node: Node) -> None:
        if node.provider_id:
            self._ec2(
                node.region,
                "create_tags",
                Resources=[node.provider_id],
                Tags=[{"Key": TAG_STATE, "Value": "draining"}],
            )
        self._ledger.mark_draining(node.webinar_code, node.request_key)

    def terminate(self, node: Node) -> None:
        code, region, role = node.webinar_code, node.region, str(node.role)
        with self._ledger.locked(code, region, role):
            instance_id = self._ledger.instance_of(code, region, role, node.request_key)
            if instance_id is None:
                return  # unknown or already terminated
            live = []
            if instance_id:
                answer = self._asg(
                    region, "describe_auto_scaling_instances", InstanceIds=[instance_id]
                )
                states = [i["LifecycleState"] for i in answer["AutoScalingInstances"]]
                live = [st for st in states if not st.startswith("Terminat")]  # idempotent
                if live:
                    self._asg(
                        region,
                        "terminate_instance_in_auto_scaling_group",
                        InstanceId=instance_id,
                        ShouldDecrementDesiredCapacity=True,
                    )
            left = self._ledger.remove(code, region, role, node.request_key)
            if not live:  # no instance of its own went with it: shrink the group by hand
                self._scale(code, region, role, left)

    def teardown(self, webinar_code: str) -> None:
        for region in sorted(settings.RELAY_AWS_REGIONS):
            for group in self._tagged_groups(region, webinar_code):
                name = group["AutoScalingGroupName"]
                self._asg(
                    region,
                    "update_auto_scaling_group",
                    AutoScalingGroupName=name,
                    MinSize=0,
                    DesiredCapacity=0,
                )
                self._asg(
                    region,
                    "delete_auto_scaling_group",
                    AutoScalingGroupName=name,
                    ForceDelete=True,
                )
        self._ledger.clear(webinar_code)

    def _pages(self, region: str, service: str, operation: str, **params: Any) -> Iterator[Any]:
        while True:
            page = self._call(region, service, operation, **params)
            yield page
            if not page.get("NextToken"):
                return
            params["NextToken"] = page["NextToken"]

    def _tagged_groups(self, region: str, webinar_code: str) -> list[dict[str, Any]]:
        tagged = [{"Name": f"tag:{TAG_WEBINAR}", "Values": [webinar_code]}]
        pages = self._pages(region, "autoscaling", "describe_auto_scaling_groups", Filters=tagged)
        return [group for page in pages for group in page["AutoScalingGroups"]]

    def list_resources(self, webinar_code: str) -> list[Resource]:
        """Every AWS region is asked (not our own bookkeeping): the leak sweep's view.
        Instances shutting down or terminated are on their way out and not listed."""
        found = []
        for region in sorted(settings.RELAY_AWS_REGIONS):
            for group in self._tagged_groups(region, webinar_code):
                found.append(Resource("auto-scaling-group", group["AutoScalingGroupName"], region))
            filters = [
                {"Name": f"tag:{TAG_WEBINAR}", "Values": [webinar_code]},
                {"Name": "instance-state-name", "Values": LIVE_STATES},
            ]
            for page in self._pages(region, "ec2", "describe_instances", Filters=filters):
                for reservation in page["Reservations"]:
                    found += [
                        Resource("instance", i["InstanceId"], region, i["State"]["Name"])
                        for i in reservation["Instances"]
                    ]
        return found
