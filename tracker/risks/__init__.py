"""Risk flags: a person × rule × period at or near its limit, raised by the system or a coordinator."""
