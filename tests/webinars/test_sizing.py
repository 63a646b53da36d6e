import pytest

from webinars.sizing import SizingParams, size_cluster, viewers_per_region

EVEN_8 = {r: 1250 for r in ("a", "b", "c", "d", "e", "f", "g", "h")}


def test_10k_in_one_region_is_11_edges_and_2_origins():
    plan = size_cluster(10_000, {"us-east": 10_000})
    (region,) = plan.regions
    assert (region.edges, region.spare_edges, region.relays, region.origins) == (10, 1, 0, 2)
    assert plan.total_nodes == 13


def test_1m_over_8_regions_is_1074_nodes():
    plan = size_cluster(1_000_000, EVEN_8)
    assert all(r.edges + r.spare_edges == 132 for r in plan.regions)
    assert all(r.relays == 2 for r in plan.regions)
    assert sum(r.origins for r in plan.regions) == 2
    assert plan.total_nodes == 8 * 132 + 16 + 2 == 1074


def test_origins_go_to_the_region_with_the_largest_share():
    plan = size_cluster(100_000, {"eu-west": 3000, "us-east": 7000})
    assert plan.nodes_by_region() == {"eu-west": 29 + 3 + 2, "us-east": 67 + 7 + 2 + 2}


def test_surge_and_viewers_per_edge_are_configurable():
    plan = size_cluster(10_000, {"x": 10_000}, SizingParams(viewers_per_edge=2100, surge=1.2))
    assert plan.regions[0].edges == 6  # ceil(12,000 / 2,100)


def test_spare_is_at_least_one_node():
    assert size_cluster(1_000, {"x": 10_000}).regions[0].spare_edges == 1


def test_split_must_sum_to_100_percent():
    with pytest.raises(ValueError, match="100%"):
        viewers_per_region(10_000, {"a": 5000, "b": 4000})


def test_split_rounds_each_region_up():
    assert viewers_per_region(10_001, {"a": 5000, "b": 5000}) == {"a": 5001, "b": 5001}


@pytest.mark.parametrize("bad", [{"viewers_per_edge": 0}, {"surge": 0.5}, {"spare_ratio": 2}])
def test_nonsense_parameters_are_refused(bad):
    with pytest.raises(ValueError):
        SizingParams(**bad)
