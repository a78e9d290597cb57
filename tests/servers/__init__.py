"""Local stand-ins for the services cloudsoc notifies, speaking their documented request and response
shapes, started by the tests on loopback."""
