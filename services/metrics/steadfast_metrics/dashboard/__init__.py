"""The dashboard at ``/``: the KPIs, teams, watch lists and strategy as pages for people, rendered on
the server from the same services the API answers from, with every asset served by the service itself."""
