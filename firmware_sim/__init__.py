"""What runs inside a token, simulated: reachable from the host only through a transport."""
