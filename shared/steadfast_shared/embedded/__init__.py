"""Things the embedded default runs on one machine: the Kafka-protocol broker (Tansu)."""

from steadfast_shared.embedded.broker import (
    BrokerError,
    TansuBroker,
    free_port,
    metadata_cluster_id,
    port_is_free,
)

__all__ = ["BrokerError", "TansuBroker", "free_port", "metadata_cluster_id", "port_is_free"]
