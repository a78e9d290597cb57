"""Notification and ticketing channels: Slack, SNS, email, PagerDuty, ServiceNow, Jira, webhooks."""
