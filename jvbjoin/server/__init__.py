"""The Jitsi Meet server side: install, tokens and bridge accounts, the fleet."""
