"""A generic ERP connector: case milestones become ERP documents through declarative profiles."""
