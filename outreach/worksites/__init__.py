"""Open worksites (chantiers ouverts): residents' and workers' reports (intake), their states,
coordinators' triage, the public pages' queries (tracking, nearby, volunteers), photos and Open311."""
