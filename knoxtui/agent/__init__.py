"""The agent: one vault's raw SQLCipher key, held in memory by a small background process behind
a private Unix socket, so the commands of a session skip the key derivation (`knoxtui agent
start`, `agent status`, `agent stop`, `knoxtui lock`).

`client` is what every command imports (standard library only, cheap); `server` runs the agent;
`memory` keeps the key out of swap and core dumps where the platform allows.
"""
