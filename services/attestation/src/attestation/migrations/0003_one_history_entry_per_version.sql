-- A version is replaced once: two corrections of the same attestation at the same moment both
-- read version N; the second one's history entry for N now conflicts, its transaction is rolled
-- back and tried again on version N+1 (use_cases.provider.attest_one), instead of both writing N+1.
CREATE UNIQUE INDEX attestation_history_one_per_version ON attestation_history (attestation_id, version);
