"""The records of the in-memory catalog: nodes, service instances, checks, KV entries.

Records are plain mutable dataclasses owned by :class:`~ctmpl.memconsul.state.State`;
``same_as`` compares what a client can see (everything but the Raft indexes), which is how
a write that changes nothing is recognised and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ctmpl.memconsul.connect import ProxyConfig, connect_name
from ctmpl.memconsul.definitions import CheckDefinition

CONSUL_VERSION = "1.21.3"
SERF_CHECK_ID = "serfHealth"
NODE_MAINTENANCE_ID = "_node_maintenance"
SERVICE_MAINTENANCE_PREFIX = "_service_maintenance:"

# Where a record came from: the agent itself, a data file, or the HTTP/Python API.
SOURCE_AGENT = "agent"
SOURCE_DATA = "data"
SOURCE_API = "api"


@dataclass(slots=True)
class NodeRecord:
    name: str
    id: str
    address: str
    datacenter: str
    tagged_addresses: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    source: str = SOURCE_DATA
    create_index: int = 0
    modify_index: int = 0
    #: A node registered through the catalog without these maps shows them as null.
    tagged_addresses_null: bool = False
    meta_null: bool = False

    def same_as(self, other: NodeRecord) -> bool:
        return (
            self.id == other.id
            and self.address == other.address
            and self.datacenter == other.datacenter
            and self.tagged_addresses == other.tagged_addresses
            and self.meta == other.meta
            and self.tagged_addresses_null == other.tagged_addresses_null
            and self.meta_null == other.meta_null
        )


@dataclass(slots=True)
class ServiceRecord:
    node: str
    id: str
    name: str
    tags: list[str] = field(default_factory=list)
    address: str = ""
    port: int = 0
    meta: dict[str, str] | None = None
    tagged_addresses: dict[str, tuple[str, int]] = field(default_factory=dict)
    weights: tuple[int, int] = (1, 1)
    enable_tag_override: bool = False
    kind: str = ""
    connect_native: bool = False
    proxy: ProxyConfig | None = None
    source: str = SOURCE_API
    create_index: int = 0
    modify_index: int = 0
    #: The Connect virtual IP of the destination (``consul-virtual`` tagged address).
    virtual_ip: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.node, self.id)

    @property
    def connect_for(self) -> str | None:
        """The service this one answers Connect queries for (a proxy's destination)."""
        return connect_name(self.kind, self.name, self.proxy, self.connect_native)

    def same_as(self, other: ServiceRecord) -> bool:
        return (
            self.name == other.name
            and self.tags == other.tags
            and self.address == other.address
            and self.port == other.port
            and self.meta == other.meta
            and self.tagged_addresses == other.tagged_addresses
            and self.weights == other.weights
            and self.enable_tag_override == other.enable_tag_override
            and self.kind == other.kind
            and self.connect_native == other.connect_native
            and self.proxy == other.proxy
            and self.source == other.source
        )


@dataclass(slots=True)
class CheckRecord:
    """A health check. ``output`` is what the catalog shows, ``local_output`` the agent's.

    Like Consul's agent, a new result with an unchanged status updates only the local
    output; the catalog (and its index) catch up after ``output_sync_interval``.
    """

    node: str
    check_id: str
    name: str
    status: str = "critical"
    notes: str = ""
    output: str = ""
    service_id: str = ""
    service_name: str = ""
    service_tags: list[str] = field(default_factory=list)
    type: str = ""
    interval: str = ""
    timeout: str = ""
    definition: CheckDefinition | None = None
    source: str = SOURCE_API
    create_index: int = 0
    modify_index: int = 0
    local_output: str = ""
    critical_since: float | None = None
    ttl_deadline: float | None = None
    synced_at: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        return (self.node, self.check_id)

    @property
    def is_maintenance(self) -> bool:
        return self.check_id == NODE_MAINTENANCE_ID or self.check_id.startswith(
            SERVICE_MAINTENANCE_PREFIX
        )

    def same_as(self, other: CheckRecord) -> bool:
        return (
            self.name == other.name
            and self.status == other.status
            and self.notes == other.notes
            and self.output == other.output
            and self.service_id == other.service_id
            and self.service_name == other.service_name
            and self.service_tags == other.service_tags
            and self.type == other.type
            and self.interval == other.interval
            and self.timeout == other.timeout
            and self.definition == other.definition
        )


@dataclass(slots=True)
class KVEntry:
    key: str
    value: bytes
    flags: int = 0
    create_index: int = 0
    modify_index: int = 0
    lock_index: int = 0
    session: str = ""
