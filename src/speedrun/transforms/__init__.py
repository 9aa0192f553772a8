"""Pure transforms and the data model: DataFrames and values in, DataFrames and values out; nothing here reads or
writes a table or a file. Imports nothing of the steps or the edges."""
