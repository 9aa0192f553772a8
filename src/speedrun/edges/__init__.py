"""The edges: where speedrun meets the outside: Delta tables, MLflow, the Spark session, raw files, the report. An
edge may use the transforms and the data model, never a step."""
