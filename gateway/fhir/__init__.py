"""casegate's FHIR side: the PAS facade EHRs call (`/fhir/Claim/$submit`, `$inquire`,
`/fhir/Subscription`, `/fhir/metadata`) with the notifications it sends them, and the
subscriptions at PAS payers whose notifications it receives."""
