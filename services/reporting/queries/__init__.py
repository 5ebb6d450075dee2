"""SQL of the reporting service: ingest and projection writes, the dataset's metrics, the
dashboards and the statutory exports. Scans run as SQL (Core), never by loading ORM objects."""
