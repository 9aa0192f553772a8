"""The steps: each one function of the run context (`speedrun.context`), reading through the edges, changing rows
with the transforms, writing through the edges. A step imports transforms and edges, never another step."""
