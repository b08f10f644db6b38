"""The Slack front-end: bolt app, HTTP and Socket Mode, Web API delivery."""
