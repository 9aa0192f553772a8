"""The local speedrun server: a process that keeps Spark warm between commands, and the command side that reaches it."""
