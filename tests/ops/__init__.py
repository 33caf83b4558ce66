"""Operations: the deployment guide (docs/deploy.md) run as a test."""
