# Names `vulture agent` reports as unused that are used, though not by a call it can see.
# Read by vulture only (`.ci/run`); pydantic validators, `model_config` and Typer commands
# are left out through [tool.vulture] in pyproject.toml. Format: `vulture --make-whitelist`.

__getattr__  # agent/__init__.py: the module's lazy public names (PEP 562)
_.construct_mapping  # agent/config/reader.py: overrides PyYAML's, which calls it
_.should_exit  # agent/feedback/server.py: uvicorn's server loop reads it
THRESHOLD  # agent/model.py: FindingKind("threshold"), looked up by its value
description  # agent/config/schema.py: metrics.yaml's free text for people, kept by design
__call__  # notify/base.py NotifierClass, sources/__init__.py _Opener: protocols of classes
exc_type  # agent/sources/ibis_source.py: the signature of __exit__
tb  # the same
arg  # agent/sources/cohorts.py: the UDF's parameters declare its SQL signature
segments_checked  # agent/attribute/localize.py: the search's size, part of its result
charts  # agent/report/__init__.py: ReportFiles lists every file written, for the caller
