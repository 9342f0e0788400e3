from esign.migrations import run_env
from services.tracking.adapters.orm import metadata

run_env(metadata)
