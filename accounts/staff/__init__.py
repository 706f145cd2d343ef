"""Staff management: invitations by e-mail, roles, deactivation, and the membership audit trail."""
