"""Simulation: synthetic CloudTrail activity, attack techniques and detection coverage."""
