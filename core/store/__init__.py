"""The label store. Importing it registers every table module with the shared metadata."""
from core.store import (
    models_clips,  # noqa: F401  (imports core.store.models; the clips table)
    models_tasks,  # noqa: F401  (imports core.store.models; tasks and snapshots tables)
    models_traces,  # noqa: F401  (imports core.store.models; the va_traces table)
)
