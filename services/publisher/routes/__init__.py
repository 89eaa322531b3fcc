"""HTTP routes of the publisher: the read API, subscriptions (admin) and the SSE stream."""
