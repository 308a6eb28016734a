from tests.report.seed import (  # noqa: F401  (fixtures)
    annual_store,
    both_freqs_store,
    breakdowns_store,
    evil_store,
    pairs_store,
    seeded_store,
    two_classifications_store,
)
