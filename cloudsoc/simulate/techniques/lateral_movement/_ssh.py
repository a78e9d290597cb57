"""The intruder's SSH key, pushed to instances by the lateral-movement techniques."""

# Made up for the simulation: well formed, but no private key belongs to it.
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q"
