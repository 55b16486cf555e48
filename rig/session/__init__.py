"""A session: protocols, clinician entries, screening, and the runner that orchestrates trials."""
