"""The gateway's X12 side: persisted control numbers for the clearinghouse connector, and the
pickup of inbound 835 and 277 files that opens denial appeals."""
