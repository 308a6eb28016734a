from tests.report.seed import evil_store, pairs_store, seeded_store  # noqa: F401  (fixtures)
