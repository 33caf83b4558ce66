"""Who may do what: roles and capabilities, staff accounts, sign-in, API tokens, invitations."""
