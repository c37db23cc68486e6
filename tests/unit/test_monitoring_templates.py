"""examples/monitoring/: the Prometheus configuration and the Grafana data source, in Jinja2 and
in consul-template's Go syntax, render the same bytes from the same Consul data and say what
the catalog and KV say."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest
import yaml

from tests.unit.monitoring import (
    DATA,
    GRAFANA,
    PROMETHEUS,
    SYNTAXES,
    VARIANTS,
    check_grafana_datasource,
    data_variant,
    influxdb_write,
    remote_writes,
    render,
    scrape_targets,
    seed_data,
)


@functools.cache
def _rendered(name: str, variant: str) -> str:
    """The template rendered in both syntaxes; fails unless the two are byte-identical.
    (Once per test session: starting ctmpl takes half a second.)"""
    with tempfile.TemporaryDirectory() as directory:
        return _rendered_in(Path(directory), name, variant)


def _rendered_in(tmp_path: Path, name: str, variant: str) -> str:
    data, _ = data_variant(tmp_path, variant)
    outputs = []
    for syntax in SYNTAXES:
        out = tmp_path / f"{name}.{syntax}.out"
        result = render(name, syntax, data, out)
        assert result.returncode == 0, f"{syntax}: {result.stderr}"
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1], f"{name}: Jinja2 and Go syntax differ for {variant}"
    return outputs[0].decode()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_prometheus_config_is_the_same_in_both_syntaxes(variant: str) -> None:
    text = _rendered(PROMETHEUS, variant)
    assert isinstance(yaml.safe_load(text), dict)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_grafana_datasource_is_the_same_in_both_syntaxes(variant: str) -> None:
    text = _rendered(GRAFANA, variant)
    assert isinstance(yaml.safe_load(text), dict)


def test_scrape_targets_are_the_healthy_instances_tagged_metrics() -> None:
    text = _rendered(PROMETHEUS, "seed")
    assert scrape_targets(text) == {
        "ctmpl": ["192.168.200.10:9102"],
        "nginx-exporter": ["192.168.200.87:9113"],
    }
    assert yaml.safe_load(text)["global"]["scrape_interval"] == "15s"


def test_an_untagged_instance_of_a_tagged_service_is_not_scraped() -> None:
    text = _rendered(PROMETHEUS, "untagged-instance")
    assert scrape_targets(text)["ctmpl"] == ["192.168.200.10:9102"]


def test_a_job_without_healthy_instances_stays_with_no_targets() -> None:
    text = _rendered(PROMETHEUS, "critical-exporter")
    assert scrape_targets(text) == {"ctmpl": ["192.168.200.10:9102"], "nginx-exporter": []}


def test_nothing_tagged_means_no_job() -> None:
    text = _rendered(PROMETHEUS, "nothing-tagged")
    assert yaml.safe_load(text)["scrape_configs"] == []


def test_remote_write_goes_to_influxdb_with_credentials_from_kv() -> None:
    text = _rendered(PROMETHEUS, "seed")
    (entry,) = remote_writes(text)
    assert influxdb_write(entry) == ("192.168.200.10:8086", "cadvisor", "prometheus", "s3cret")


def test_remote_write_takes_the_first_of_several_influxdbs() -> None:
    text = _rendered(PROMETHEUS, "two-influxdbs")
    (entry,) = remote_writes(text)
    assert influxdb_write(entry)[0] == "10.0.0.5:8087"


def test_no_influxdb_means_no_remote_write() -> None:
    text = _rendered(PROMETHEUS, "no-influxdb")
    assert remote_writes(text) == []
    assert scrape_targets(text)["ctmpl"] == ["192.168.200.10:9102"]


def test_credentials_survive_yaml_whatever_they_hold(tmp_path: Path) -> None:
    _, data = data_variant(tmp_path, "awkward-credentials")
    kv = data["kv"]
    prometheus = _rendered(PROMETHEUS, "awkward-credentials")
    (entry,) = remote_writes(prometheus)
    _, database, _, password = influxdb_write(entry)
    assert (database, password) == ("metrics_db", kv["monitoring/prometheus/influxdb_password"])
    grafana = _rendered(GRAFANA, "awkward-credentials")
    check_grafana_datasource(
        grafana,
        url="http://192.168.200.10:8086",
        user="yes",
        password=kv["monitoring/grafana/influxdb_password"],
        database="metrics_db",
    )


def test_credentials_are_not_in_the_templates() -> None:
    kv = seed_data()["kv"]
    for name in (PROMETHEUS, GRAFANA):
        for syntax in SYNTAXES:
            source = (DATA.parent / f"{name}.{syntax}").read_text()
            for key in ("influxdb_password", "influxdb_user"):
                assert f"monitoring/{'grafana' if name == GRAFANA else 'prometheus'}/{key}" in (
                    source
                )
            for value in (kv["monitoring/prometheus/influxdb_password"], "gr@fana"):
                assert value not in source


def test_grafana_datasource_follows_grafanas_provisioning_format() -> None:
    text = _rendered(GRAFANA, "seed")
    source = check_grafana_datasource(
        text,
        url="http://192.168.200.10:8086",
        user="grafana",
        password="gr@fana",
        database="cadvisor",
    )
    assert source["isDefault"] is True


def test_grafana_datasource_takes_the_first_of_several_influxdbs() -> None:
    text = _rendered(GRAFANA, "two-influxdbs")
    source = yaml.safe_load(text)["datasources"][0]
    assert source["url"] == "http://10.0.0.5:8087"


def test_no_influxdb_means_an_empty_list_that_grafana_ignores() -> None:
    """Grafana keeps a data source that a file no longer lists (unless deleteDatasources
    names it), so while no InfluxDB is healthy it keeps the last address it knew."""
    document = yaml.safe_load(_rendered(GRAFANA, "no-influxdb"))
    assert document == {"apiVersion": 1, "datasources": []}
