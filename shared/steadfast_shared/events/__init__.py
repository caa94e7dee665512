"""The event contract: the CloudEvents 1.0 envelope and the registry of versioned event types."""

from steadfast_shared.events.envelope import CloudEvent, new_event
from steadfast_shared.events.registry import EventRegistry, EventType, PendingEvent

__all__ = ["CloudEvent", "EventRegistry", "EventType", "PendingEvent", "new_event"]
