"""The case lifecycle driven by policy decisions: decide at intake, hold or send, route with
fallbacks, follow up pended cases, and keep SLA clocks and escalations in the store."""
