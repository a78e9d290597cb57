"""Response: actions, the playbook engine, the evidence locker."""
