"""One router per resource; each route pulls plain values out of the request and calls one service."""
