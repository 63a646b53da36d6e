"""The aws provider against moto in server mode on 127.0.0.1: groups per (region, role,
webinar) tagged with the webinar, desired capacity reached and described, idempotent
creation, replacement binding, wiring tags, and a teardown that leaves nothing tagged."""

import threading

import boto3
import pytest

from events.providers.aws import TAG_PARENT, TAG_WEBINAR, AwsProvider
from events.providers.base import NodeSpec, NodeState, Role, default_cascade

pytestmark = pytest.mark.slow

REGIONS = {"us-east": "us-east-1", "eu-west": "eu-west-1"}


@pytest.fixture
def aws(moto_server, settings, monkeypatch, code):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.RELAY_AWS_ENDPOINT_URL = moto_server
    settings.RELAY_AWS_REGIONS = REGIONS
    settings.RELAY_AWS_IMAGE_ID = "ami-12345678"
    settings.RELAY_AWS_API_RATE = 500
    settings.RELAY_AWS_API_BURST = 500
    provider = AwsProvider()
    yield provider
    provider.teardown(code)


def client(moto_server, service, region):
    return boto3.client(service, region_name=region, endpoint_url=moto_server)


def specs(code, layout):
    out = []
    for region, role, count in layout:
        out += [NodeSpec(code, region, role, f"{code}/{region}/{role}/{i}") for i in range(count)]
    return out


LAYOUT = [
    ("us-east", Role.ORIGIN, 2),
    ("us-east", Role.EDGE, 50),
    ("us-east", Role.SPARE, 5),
    ("eu-west", Role.RELAY, 2),
    ("eu-west", Role.EDGE, 38),
    ("eu-west", Role.SPARE, 3),
]  # 100 nodes


def test_groups_are_tagged_reach_capacity_and_teardown_leaves_nothing(aws, code, moto_server):
    nodes = aws.create_nodes(specs(code, LAYOUT))
    assert len(nodes) == 100
    assert {n.state for n in nodes} == {NodeState.RUNNING}  # moto: InService at once
    assert len({n.provider_id for n in nodes}) == 100

    groups = client(moto_server, "autoscaling", "us-east-1").describe_auto_scaling_groups(
        Filters=[{"Name": f"tag:{TAG_WEBINAR}", "Values": [code]}]
    )["AutoScalingGroups"]
    assert {g["AutoScalingGroupName"]: g["DesiredCapacity"] for g in groups} == {
        f"relay-{code}-us-east-origin": 2,
        f"relay-{code}-us-east-edge": 50,
        f"relay-{code}-us-east-spare": 5,
    }
    leaks = aws.list_resources(code)
    assert sum(r.kind == "instance" for r in leaks) == 100
    assert sum(r.kind == "auto-scaling-group" for r in leaks) == 6

    aws.teardown(code)
    assert aws.list_resources(code) == []
    assert aws.describe(code) == []


def test_create_is_idempotent_per_request_key(aws, code, moto_server):
    wanted = specs(code, [("us-east", Role.EDGE, 6)])
    threads = [threading.Thread(target=aws.create_nodes, args=(wanted,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    again = aws.create_nodes(wanted)  # a retried task
    assert {n.state for n in again} == {NodeState.RUNNING}
    group = client(moto_server, "autoscaling", "us-east-1").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"relay-{code}-us-east-edge"]
    )["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 6 and len(group["Instances"]) == 6
    assert sorted(n.provider_id for n in again) == sorted(
        i["InstanceId"] for i in group["Instances"]
    )


def test_terminate_and_replacement_keep_keys_and_capacity_in_step(aws, code, moto_server):
    nodes = aws.create_nodes(specs(code, [("us-east", Role.EDGE, 4)]))
    aws.terminate(nodes[0])
    aws.terminate(nodes[0])  # idempotent
    left = aws.describe(code)
    assert [n.request_key for n in left] == [n.request_key for n in nodes[1:]]
    asg = client(moto_server, "autoscaling", "us-east-1")
    name = f"relay-{code}-us-east-edge"
    assert (
        asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
            "DesiredCapacity"
        ]
        == 3
    )

    # The group replaces an instance that died; its key takes the replacement.
    client(moto_server, "ec2", "us-east-1").terminate_instances(InstanceIds=[left[0].provider_id])
    after = {n.request_key: n for n in aws.describe(code)}
    assert after[left[0].request_key].provider_id not in ("", left[0].provider_id)
    assert after[left[0].request_key].state == NodeState.RUNNING
    assert len({n.provider_id for n in after.values()}) == 3


def test_wire_tags_each_child_with_its_parent(aws, code, moto_server):
    aws.create_nodes(
        specs(
            code,
            [("us-east", Role.ORIGIN, 1), ("eu-west", Role.RELAY, 1), ("eu-west", Role.EDGE, 3)],
        )
    )
    nodes = {n.request_key: n for n in aws.describe(code)}
    cascade = default_cascade(code, nodes.values())
    result = aws.wire(cascade)
    assert (result.added, result.removed, result.unreachable) == (5, 0, ())
    assert aws.wire(cascade).added == 0  # unchanged: no calls
    ec2 = client(moto_server, "ec2", "eu-west-1")
    tags = {
        i["InstanceId"]: {t["Key"]: t["Value"] for t in i.get("Tags", [])}
        for r in ec2.describe_instances(Filters=[{"Name": f"tag:{TAG_WEBINAR}", "Values": [code]}])[
            "Reservations"
        ]
        for i in r["Instances"]
    }
    relay = next(n for n in nodes.values() if n.role == Role.RELAY)
    origin = next(n for n in nodes.values() if n.role == Role.ORIGIN)
    assert tags[relay.provider_id][TAG_PARENT] == origin.provider_id
    edges = [n for n in nodes.values() if n.role == Role.EDGE]
    assert {tags[e.provider_id][TAG_PARENT] for e in edges} == {relay.provider_id}
