"""What every esign service needs: settings, database, outbox and relay, JetStream consumers,
auth, problem responses, health and metrics. Services import this package, never each other."""
