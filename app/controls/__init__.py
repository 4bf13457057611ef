"""What the client asks of the answer: ``echo_*`` / ``X-Echo-*`` controls, status sequences, the echo format."""
