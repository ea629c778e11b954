"""Connector for an X12 clearinghouse: CAQH CORE real-time HTTP and SFTP/directory batch."""
